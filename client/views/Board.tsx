import { For, Show } from 'solid-js'
import { A, useLocation } from '@solidjs/router'
import { t, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { useBoard } from '../stores/board.ts'
import { PostCard } from '../components/PostCard.tsx'

/** The neighbourhood's board, newest first, painted from the index (so at once, even offline). */
export function Board() {
  const app = useApp()
  const posts = useBoard()
  const location = useLocation()
  const notice = () => (location.state as { notice?: MessageKey } | undefined)?.notice
  return (
    <section class="page" aria-labelledby="board-title">
      <h1 id="board-title">{t('board.title', { name: app.neighbourhood()?.name ?? '' })}</h1>
      <Show when={notice()}>
        {(key) => (
          <p class="notice" role="status">
            {t(key())}
          </p>
        )}
      </Show>
      <p>
        <A class="button" href="/new">
          {t('board.newPost')}
        </A>
      </p>
      <Show when={posts()} fallback={<p>{t('board.loading')}</p>}>
        {(list) => (
          <Show when={list().length} fallback={<p class="empty">{t('board.empty')}</p>}>
            <ul class="posts" aria-label={t('board.posts')}>
              <For each={list()}>
                {(post) => (
                  <li>
                    <PostCard post={post} author={app.memberNames().get(post.author) ?? '…'} />
                  </li>
                )}
              </For>
            </ul>
          </Show>
        )}
      </Show>
    </section>
  )
}
