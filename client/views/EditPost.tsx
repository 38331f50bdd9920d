import { Show } from 'solid-js'
import { useNavigate, useParams } from '@solidjs/router'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { usePost } from '../stores/post.ts'
import type { DocUrl, PostId } from '../../shared/ids.ts'
import { postPath } from '../components/PostCard.tsx'
import { PostForm, valuesOf } from './post/PostForm.tsx'

/** The author edits their own post (its text and details; not its lifecycle). */
export function EditPost() {
  const app = useApp()
  const navigate = useNavigate()
  const params = useParams<{ feed: string; id: string }>()
  const ref = () => ({ feed: `automerge:${params.feed}` as DocUrl, id: params.id as PostId })
  const data = usePost(ref)
  return (
    <section class="page">
      <h1>{t('post.edit.title')}</h1>
      <Show when={data() !== undefined} fallback={<p>{t('board.loading')}</p>}>
        <Show when={data()?.post.author === app.profile()?.id && data()} fallback={<p role="alert">{t('reason.not-author')}</p>}>
          {(d) => (
            <PostForm
              initial={valuesOf(d().post)}
              canPostInfo={app.isReferent()}
              submitLabel={t('post.save')}
              onCancel={() => navigate(postPath(ref()))}
              onSubmit={async (input) => {
                await app.editPost(ref().id, input)
                navigate(postPath(ref()))
              }}
            />
          )}
        </Show>
      </Show>
    </section>
  )
}
