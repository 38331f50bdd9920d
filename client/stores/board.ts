import { createEffect, createMemo, type Accessor } from 'solid-js'
import type { BoardPost } from '../db/db.ts'
import type { DocUrl } from '../../shared/ids.ts'
import { searchTerms } from '../../shared/search-text.ts'
import { matchesFilters, nearestFirst, type ThemeCount } from '../../shared/board-query.ts'
import { useApp } from './app.tsx'
import { createLiveQuery } from './live.ts'
import { browse, byDate, openNeeds, themesInUse, type BoardPage, type BoardRequest } from './board-reads.ts'
import { useSearch } from './search.ts'
import type { PostKey } from './search-index.ts'

export type { BoardPage, BoardPost, BoardRequest, ThemeCount }

/** The current neighbourhood's posts, newest first, live from the index. `undefined` while loading. */
export function useBoard(): Accessor<BoardPost[] | undefined> {
  const app = useApp()
  return createLiveQuery(() => app.profile()?.neighbourhood, async (n) => (n ? byDate(app.db, n).reverse().toArray() : []), undefined)
}

export interface BoardView {
  page: Accessor<BoardPage | undefined>
  /** True when the request holds words to search for (not only stop words). */
  searching: Accessor<boolean>
}

/**
 * The board as the person asked for it: searched, filtered, ordered, one page at a time, live.
 * Without words to search, it reads the index newest first in growing batches and stops once it has
 * `limit + 1` matches, so the default view costs about the same with 10,000 posts as with 50. With words, it asks the search
 * index (built on first use) for ranked keys, filters on the facets kept there, and reads only the page.
 */
export function createBoardView(request: Accessor<BoardRequest>): BoardView {
  const app = useApp()
  const search = useSearch()
  const searching = createMemo(() => searchTerms(request().params.q).length > 0)
  createEffect(() => {
    if (searching()) search.warm()
  })

  type Plan =
    | { mode: 'none' }
    | { mode: 'preparing' }
    | { mode: 'browse'; n: DocUrl; request: BoardRequest }
    | { mode: 'search'; keys: PostKey[]; total: number; query: string }
  const plan = createMemo((): Plan => {
    const n = app.profile()?.neighbourhood
    if (!n) return { mode: 'none' }
    const r = request()
    if (!searching()) return { mode: 'browse', n, request: r }
    if (search.state() !== 'ready') return { mode: 'preparing' }
    const now = Date.now()
    let hits = search.search(r.params.q, (f) => matchesFilters(f, r.params, now))
    if (r.params.order === 'near' && r.here) hits = nearestFirst(hits, r.here, (h) => h.facet)
    return { mode: 'search', keys: hits.slice(0, r.limit).map((h) => h.key), total: hits.length, query: r.params.q }
  })

  const page = createLiveQuery(
    plan,
    async (p): Promise<BoardPage | undefined> => {
      switch (p.mode) {
        case 'none':
          return { posts: [], hasMore: false, total: 0 }
        case 'preparing':
          return { posts: [], hasMore: false, preparing: true }
        case 'search': {
          const rows = (await app.db.posts.bulkGet(p.keys)).filter((r): r is BoardPost => r !== undefined)
          return { posts: rows, hasMore: p.total > p.keys.length, total: p.total, query: p.query }
        }
        case 'browse':
          return { ...(await browse(app.db, p.n, p.request, Date.now())), query: p.request.params.q }
      }
    },
    undefined,
  )
  return { page, searching }
}

/**
 * Every request still waiting for help (open or in progress, not expired), newest first, `limit` at a
 * time, with how many there are.
 */
export function useOpenNeeds(limit: Accessor<number>): Accessor<BoardPage | undefined> {
  const app = useApp()
  return createLiveQuery(
    () => ({ n: app.profile()?.neighbourhood, limit: limit() }),
    async ({ n, limit }) => (n ? openNeeds(app.db, n, limit, Date.now()) : { posts: [], hasMore: false, total: 0 }),
    undefined,
  )
}

/**
 * The themes to offer in the filter, most used first. It reads every post, so it runs only while
 * `enabled` (the filters are open, or a theme is chosen).
 */
export function usePromotedThemes(enabled: Accessor<boolean>): Accessor<ThemeCount[]> {
  const app = useApp()
  return createLiveQuery(
    () => (enabled() ? app.profile()?.neighbourhood : undefined),
    async (n) => (n ? themesInUse(app.db, n) : []),
    [],
  )
}

/** This profile's posts that expired while still open: their author is asked "still needed?". */
export function useMyExpiredPosts(): Accessor<BoardPost[]> {
  const app = useApp()
  return createLiveQuery(
    () => app.profile()?.feed,
    async (feed) => {
      if (!feed) return []
      const now = Date.now()
      return app.db.posts
        .where('feed')
        .equals(feed)
        .filter((p) => p.status === 'open' && p.expiresAt !== undefined && p.expiresAt < now)
        .toArray()
    },
    [],
  )
}
