/**
 * The board's reads from the index database, as plain async functions of a Dexie database (no Solid),
 * so Node tests run them on fake-indexeddb. `board.ts` wraps them in live queries.
 */
import type { BoardPost, PlacetteDb } from '../db/db.ts'
import type { DocUrl } from '../../shared/ids.ts'
import type { Place } from '../../shared/place.ts'
import { isOpenNeed, matchesFilters, nearestFirst, newestFirst, promotedThemes, type BoardParams, type ThemeCount } from '../../shared/board-query.ts'

/** One page of a list: the first `limit` posts, and whether there are more. */
export interface BoardPage {
  posts: BoardPost[]
  hasMore: boolean
  /** How many posts match in all, when it is known without reading them all. */
  total?: number
  /** True while the search index is first being built: the posts are not results yet. */
  preparing?: boolean
  /** The words these posts are the results for (absent while preparing): lets a page tell stale results from fresh ones. */
  query?: string
}

export interface BoardRequest {
  params: BoardParams
  /** How many posts to show (grows by PAGE_SIZE with "Voir plus"). */
  limit: number
  /** The device's blurred position, once known, for `order: 'near'`. */
  here?: Place
}

/** Up to this many posts of one kind, reading them all at once and sorting beats reading by date. */
const SMALL_KIND = 2_000

export const byDate = (db: PlacetteDb, n: DocUrl) => db.posts.where('[neighbourhood+createdAt]').between([n, -Infinity], [n, Infinity])

const pageOf = (rows: BoardPost[], limit: number): BoardPage => ({ posts: rows.slice(0, limit), hasMore: rows.length > limit, total: rows.length })

// Filters run in JavaScript after plain reads, never as Dexie filters: a plain read is one IndexedDB
// getAll, about five times faster per row than the cursor a Dexie filter walks.
/** A page of the board without words to search: filtered, newest or nearest first. */
export async function browse(db: PlacetteDb, n: DocUrl, { params, limit, here }: BoardRequest, now: number): Promise<BoardPage> {
  const keep = (p: BoardPost) => matchesFilters(p, params, now)
  // Nearest first needs every match (distance has no index); it is asked for, not the default.
  if (params.order === 'near' && here) return pageOf(nearestFirst((await byDate(db, n).toArray()).filter(keep).sort(newestFirst), here, (p) => p), limit)
  if (params.kind) {
    const ofKind = db.posts.where('[neighbourhood+kind]').equals([n, params.kind])
    if ((await ofKind.count()) <= SMALL_KIND) return pageOf((await ofKind.toArray()).filter(keep).sort(newestFirst), limit)
  }
  const rows = await newestMatching(db, n, keep, limit + 1)
  return { posts: rows.slice(0, limit), hasMore: rows.length > limit }
}

/**
 * The newest `want` posts that `keep` accepts, read newest first in growing batches (2×want, then ×4):
 * the default view stops after one small read, a rare filter reads the board in a few large ones.
 */
export async function newestMatching(db: PlacetteDb, n: DocUrl, keep: (p: BoardPost) => boolean, want: number): Promise<BoardPost[]> {
  const found: BoardPost[] = []
  const seen = new Set<string>()
  let upper = Infinity
  let batch = Math.max(2 * want, 64)
  for (;;) {
    // The bound is inclusive, so posts sharing the last batch's oldest time are read again (and skipped).
    const rows = await db.posts
      .where('[neighbourhood+createdAt]')
      .between([n, -Infinity], [n, upper], true, true)
      .reverse()
      .limit(batch)
      .toArray()
    for (const row of rows) {
      const key = `${row.feed} ${row.id}`
      if (seen.has(key)) continue
      seen.add(key)
      if (keep(row) && found.push(row) >= want) return found
    }
    const last = rows[rows.length - 1]
    if (rows.length < batch || !last) return found
    upper = last.createdAt
    batch *= 4
  }
}

/** Open requests (open or in progress, not expired), newest first, `limit` of them, with how many. */
export async function openNeeds(db: PlacetteDb, n: DocUrl, limit: number, now: number): Promise<BoardPage> {
  const requests = await db.posts.where('[neighbourhood+kind]').equals([n, 'request']).toArray()
  return pageOf(requests.filter((p) => isOpenNeed(p, now)).sort(newestFirst), limit)
}

/** Every theme in use on the board, most used first. Reads every post. */
export async function themesInUse(db: PlacetteDb, n: DocUrl): Promise<ThemeCount[]> {
  return promotedThemes((await byDate(db, n).toArray()).map((p) => p.themes))
}
