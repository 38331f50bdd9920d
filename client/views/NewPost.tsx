import { useNavigate } from '@solidjs/router'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { PostForm } from './post/PostForm.tsx'

/** Post anything: works offline, the post is saved on the device and sent later. */
export function NewPost() {
  const app = useApp()
  const navigate = useNavigate()
  return (
    <section class="page">
      <h1>{t('post.new.title')}</h1>
      <PostForm
        canPostInfo={app.isReferent()}
        submitLabel={t('post.submit')}
        onCancel={() => navigate('/')}
        onSubmit={async (input) => {
          await app.post(input)
          const state = app.status.connection().state
          navigate('/', { state: { notice: state === 'open' ? 'post.saved' : state === 'busy' ? 'post.savedBusy' : 'post.savedOffline' } })
        }}
      />
    </section>
  )
}
