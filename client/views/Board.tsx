import { For, Show, createEffect, createMemo, createSignal, on, onCleanup } from 'solid-js'
import { A, useLocation, useSearchParams } from '@solidjs/router'
import { DEFAULT_PARAMS, PAGE_SIZE, activeFilterCount, boardSearchParams, parseBoardParams, placeOf, type BoardParams } from '../../shared/board-query.ts'
import { t, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { createBoardView, usePromotedThemes } from '../stores/board.ts'
import { usePosition } from '../stores/position.ts'
import { useSearch } from '../stores/search.ts'
import { PostCard } from '../components/PostCard.tsx'
import { SearchBox } from '../components/SearchBox.tsx'
import { BoardFilters } from '../components/BoardFilters.tsx'
import { Distance } from '../components/Distance.tsx'
import { ExpiredNotice } from './ExpiredNotice.tsx'

/** Results follow every keystroke; the address bar waits for this short pause. */
const TYPING_PAUSE_MS = 150

/**
 * The neighbourhood's board, painted from the index (so at once, even offline): search, filters and
 * order live in the address bar (`/?q=perceuse&kind=lend`), so "back" from a post returns to the same
 * list; 30 posts at a time.
 */
export function Board() {
  const app = useApp()
  const search = useSearch()
  const { position, locate } = usePosition()
  const location = useLocation()
  const notice = () => (location.state as { notice?: MessageKey } | undefined)?.notice
  const [searchParams, setSearchParams] = useSearchParams()
  const params = createMemo(() => parseBoardParams(searchParams), undefined, { equals: (a, b) => JSON.stringify(a) === JSON.stringify(b) })
  const [text, setText] = createSignal(params().q)
  const [limit, setLimit] = createSignal(PAGE_SIZE)
  const [filtersOpen, setFiltersOpen] = createSignal(activeFilterCount(params()) > 0 || params().order !== 'recent')

  const update = (change: Partial<BoardParams>) => {
    setSearchParams(boardSearchParams({ ...params(), ...change }), { replace: true })
    setLimit(PAGE_SIZE)
  }
  let typing: ReturnType<typeof setTimeout> | undefined
  const onText = (value: string) => {
    setText(value)
    setLimit(PAGE_SIZE)
    clearTimeout(typing)
    typing = setTimeout(() => {
      typing = undefined
      update({ q: value })
    }, TYPING_PAUSE_MS)
  }
  onCleanup(() => clearTimeout(typing))
  // The address bar changed without typing (back, forward, a link): show its words in the box.
  createEffect(
    on(
      () => params().q,
      (q) => {
        if (typing === undefined && q !== text()) setText(q)
      },
      { defer: true },
    ),
  )

  // "Près de moi" asks the device only once the person has chosen it.
  createEffect(() => {
    if (params().order === 'near' && position().state === 'unknown') locate()
  })
  const here = () => {
    const p = position()
    return params().order === 'near' && p.state === 'known' ? p.place : undefined
  }
  const positionNote = () => {
    const state = position().state
    if (state === 'known') return t('filters.located')
    if (state === 'refused') return t('filters.refused')
    if (state === 'unavailable') return t('filters.unavailable')
    return t('filters.locating')
  }

  const themes = usePromotedThemes(() => filtersOpen() || !!params().theme)
  const view = createBoardView(() => ({ params: { ...params(), q: text() }, limit: limit(), here: here() }))
  createEffect(() => view.page() && app.screenShown())

  const results = () => {
    if (!view.searching()) return ''
    if (search.state() === 'failed') return t('search.failed')
    const page = view.page()
    if (!page || page.preparing) return t('search.preparing')
    const total = page.total ?? 0
    if (total === 0) return t('search.none', { query: page.query ?? text() })
    return total === 1 ? t('search.found.one') : t('search.found.many', { count: total })
  }

  return (
    <section class="page" aria-labelledby="board-title">
      <h1 id="board-title">{t('board.title', { name: app.neighbourhood()?.name ?? '' })}</h1>
      <ExpiredNotice />
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
      <SearchBox value={text()} onInput={onText} onFocus={search.warm} />
      <BoardFilters params={params()} themes={themes()} positionNote={positionNote()} open={filtersOpen()} onToggle={setFiltersOpen} onChange={update} />
      {/* data-query: the words the list below shows results for (the benchmarks wait for it). */}
      <p class="results" role="status" data-query={view.page()?.query}>
        {results()}
      </p>
      <Show when={view.page()} fallback={<p>{t('board.loading')}</p>}>
        {(page) => (
          <Show when={page().posts.length} fallback={<Empty searching={view.searching()} filtered={activeFilterCount(params()) > 0} onClear={() => update({ ...DEFAULT_PARAMS, q: text(), order: params().order })} />}>
            <ul class="posts" aria-label={t('board.posts')}>
              <For each={page().posts}>
                {(post) => (
                  <li>
                    <PostCard post={post} author={app.memberNames().get(post.author) ?? '…'} unverified={app.unverified().has(post.author)} />
                    <Show when={here()}>{(from) => <Distance from={from()} to={placeOf(post)} />}</Show>
                  </li>
                )}
              </For>
            </ul>
            <Show when={page().hasMore}>
              <p class="more">
                <Show when={page().total}>{(total) => <span>{t('board.shown', { shown: page().posts.length, total: total() })}</span>}</Show>
                <button type="button" class="button button--secondary" onClick={() => setLimit((n) => n + PAGE_SIZE)}>
                  {t('board.more')}
                </button>
              </p>
            </Show>
          </Show>
        )}
      </Show>
    </section>
  )
}

/** Nothing to show: say why, and offer the way out. (A search with no result is said in the status line.) */
function Empty(props: { searching: boolean; filtered: boolean; onClear: () => void }) {
  return (
    <Show when={!props.searching}>
      <Show when={props.filtered} fallback={<p class="empty">{t('board.empty')}</p>}>
        <p class="empty">{t('filters.none')}</p>
        <p>
          <button type="button" class="button button--secondary" onClick={() => props.onClear()}>
            {t('filters.clear')}
          </button>
        </p>
      </Show>
    </Show>
  )
}
