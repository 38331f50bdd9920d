import { For, Show } from 'solid-js'
import { A } from '@solidjs/router'
import { t } from '../i18n/index.ts'
import { useMyExpiredPosts } from '../stores/board.ts'
import { postPath } from '../components/PostCard.tsx'

/** "Still needed?": the author's own posts that expired while open, each a link to decide. */
export function ExpiredNotice() {
  const expired = useMyExpiredPosts()
  return (
    <Show when={expired().length}>
      <section class="notice" aria-labelledby="expired-title">
        <h2 id="expired-title">{t('board.expired')}</h2>
        <ul>
          <For each={expired()}>
            {(p) => (
              <li>
                <A href={postPath(p)}>{p.title}</A>
              </li>
            )}
          </For>
        </ul>
      </section>
    </Show>
  )
}
