import { For, Show, createSignal } from 'solid-js'
import { A } from '@solidjs/router'
import { PAGE_SIZE } from '../../shared/board-query.ts'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { useOpenNeeds } from '../stores/board.ts'
import { PostCard } from '../components/PostCard.tsx'

/** "Demandes d'aide": every request still waiting for help, in one place, newest first, with how many. */
export function OpenNeeds() {
  const app = useApp()
  const [limit, setLimit] = createSignal(PAGE_SIZE)
  const needs = useOpenNeeds(limit)
  const heading = () => {
    const total = needs()?.total
    if (total === undefined) return t('needs.heading')
    if (total === 0) return t('needs.title.none')
    return total === 1 ? t('needs.title.one') : t('needs.title.many', { count: total })
  }
  return (
    <section class="page" aria-labelledby="needs-title">
      <h1 id="needs-title">{heading()}</h1>
      <Show when={app.profile()} fallback={<p>{t('error.noProfile')}</p>}>
        <p class="lead">{t('needs.intro')}</p>
        <Show when={needs()} fallback={<p>{t('board.loading')}</p>}>
          {(page) => (
            <Show
              when={page().posts.length}
              fallback={
                <>
                  <p class="empty">{t('needs.empty')}</p>
                  <p>
                    <A class="button" href="/">
                      {t('nav.board')}
                    </A>
                  </p>
                </>
              }
            >
              <ul class="posts" aria-label={t('needs.list')}>
                <For each={page().posts}>
                  {(post) => (
                    <li>
                      <PostCard post={post} author={app.memberNames().get(post.author) ?? '…'} unverified={app.unverified().has(post.author)} />
                    </li>
                  )}
                </For>
              </ul>
              <Show when={page().hasMore}>
                <p class="more">
                  <span>{t('board.shown', { shown: page().posts.length, total: page().total ?? 0 })}</span>
                  <button type="button" class="button button--secondary" onClick={() => setLimit((n) => n + PAGE_SIZE)}>
                    {t('board.more')}
                  </button>
                </p>
              </Show>
            </Show>
          )}
        </Show>
      </Show>
    </section>
  )
}
