/**
 * The full-text index of one neighbourhood's posts (title, details, themes, comments), on MiniSearch.
 * Plain TypeScript with no Dexie and no Solid: `client/stores/search.ts` feeds it rows from the index
 * database, and Node tests drive it directly.
 *
 * `sync(posts, comments)` takes the whole current set of rows and touches only what changed (a hash of
 * each post's searchable text and filter fields decides), so a new comment re-indexes one post, not ten
 * thousand.
 */
import MiniSearch, { type SearchOptions, type SearchResult } from 'minisearch'
import { processTerm, searchTerms, tokenize } from '../../shared/search-text.ts'
import type { CommentRow, PostRow } from '../../shared/projector.ts'
import type { PostFacet } from '../../shared/board-query.ts'

/** A post's key in the index database: `[feed, id]`. */
export type PostKey = [feed: string, id: string]

export interface SearchHit {
  key: PostKey
  score: number
  facet: PostFacet
}

export interface SyncReport {
  added: number
  replaced: number
  discarded: number
}

/** Facet fields kept in the index beside each post, so filters run without reading the database. */
const STORED = ['kind', 'category', 'themes', 'status', 'expiresAt', 'acceptedAt', 'createdAt', 'lat', 'lon'] as const

interface IndexedPost extends Pick<PostRow, (typeof STORED)[number]> {
  key: string
  title: string
  body: string
  comments: string
}

/**
 * As you type: every term of two letters or more also matches longer words ("perc" → "perceuse"); a term of four to nine
 * letters forgives one typo ("perseuse"), a longer one two (about a fifth of its letters, like MiniSearch's
 * `fuzzy: 0.2`, but rounded down so that "perceuse" does not find "ponceuse"); every term must match (a
 * second word narrows the list). The title weighs most, comments least.
 */
export const SEARCH_OPTIONS: SearchOptions = {
  prefix: (term) => term.length >= 2,
  fuzzy: (term) => (term.length < 4 ? false : term.length < 10 ? 1 : 2),
  combineWith: 'AND',
  boost: { title: 3, themes: 2, body: 1, comments: 0.5 },
}

/** Posts added between two pauses of a large build. */
const CHUNK = 500

// Feed URLs and post IDs never contain a newline.
const keyOf = (feed: string, id: string): string => `${feed}\n${id}`
const splitKey = (key: string): PostKey => {
  const at = key.indexOf('\n')
  return [key.slice(0, at), key.slice(at + 1)]
}

/** cyrb53: a fast 53-bit string hash; a collision would only delay one post's re-indexing. */
function hash(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

export class PostSearchIndex {
  private readonly mini = new MiniSearch<IndexedPost>({
    idField: 'key',
    fields: ['title', 'body', 'themes', 'comments'],
    storeFields: [...STORED],
    tokenize,
    processTerm,
    searchOptions: SEARCH_OPTIONS,
  })
  /** Key → hash of what was indexed for it. */
  private readonly indexed = new Map<string, number>()

  /** How many posts the index holds. */
  get size(): number {
    return this.indexed.size
  }

  /**
   * Makes the index hold exactly `posts` (with their `comments`): adds new posts, replaces those whose
   * text, comments or filter fields changed, discards those that are gone. Comments of a post that is
   * not in `posts` are ignored. New posts are added in chunks that leave the main thread in between
   * (building ten thousand posts takes about a second on a laptop), so typing stays fluid. Calls run
   * one after the other, in the order they were made.
   */
  sync(posts: readonly PostRow[], comments: readonly CommentRow[]): Promise<SyncReport> {
    const run = this.queue.then(() => this.apply(posts, comments))
    this.queue = run.catch(() => undefined)
    return run
  }

  private queue: Promise<unknown> = Promise.resolve()

  private async apply(posts: readonly PostRow[], comments: readonly CommentRow[]): Promise<SyncReport> {
    const commentsOf = new Map<string, CommentRow[]>()
    for (const c of comments) {
      const key = keyOf(c.postFeed, c.post)
      const list = commentsOf.get(key)
      if (list) list.push(c)
      else commentsOf.set(key, [c])
    }
    const report: SyncReport = { added: 0, replaced: 0, discarded: 0 }
    const seen = new Set<string>()
    const toAdd: IndexedPost[] = []
    for (const p of posts) {
      const key = keyOf(p.feed, p.id)
      if (seen.has(key)) continue
      seen.add(key)
      const doc = toDocument(key, p, commentsOf.get(key) ?? [])
      const h = hash(JSON.stringify(doc))
      const before = this.indexed.get(key)
      if (before === h) continue
      this.indexed.set(key, h)
      if (before === undefined) {
        toAdd.push(doc)
        report.added++
      } else {
        this.mini.replace(doc)
        report.replaced++
      }
    }
    for (const key of this.indexed.keys()) {
      if (seen.has(key)) continue
      this.mini.discard(key)
      this.indexed.delete(key)
      report.discarded++
    }
    if (toAdd.length > CHUNK) await this.mini.addAllAsync(toAdd, { chunkSize: CHUNK })
    else this.mini.addAll(toAdd)
    return report
  }

  /**
   * Posts matching `query`, best first (newest first among equals), kept only when `keep` accepts their
   * facet. Empty when the query has no searchable word (only stop words or punctuation).
   */
  search(query: string, keep?: (facet: PostFacet) => boolean): SearchHit[] {
    if (!searchTerms(query).length) return []
    const hits: SearchHit[] = []
    for (const r of this.mini.search(query)) {
      const facet = facetOf(r)
      if (!keep || keep(facet)) hits.push({ key: [facet.feed, facet.id], score: r.score, facet })
    }
    return hits.sort((a, b) => b.score - a.score || b.facet.createdAt - a.facet.createdAt)
  }
}

function toDocument(key: string, p: PostRow, comments: readonly CommentRow[]): IndexedPost {
  return {
    key,
    title: p.title,
    body: p.body,
    comments: [...comments]
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .map((c) => c.body)
      .join('\n'),
    kind: p.kind,
    category: p.category,
    themes: p.themes,
    status: p.status,
    expiresAt: p.expiresAt,
    acceptedAt: p.acceptedAt,
    createdAt: p.createdAt,
    lat: p.lat,
    lon: p.lon,
  }
}

function facetOf(r: SearchResult): PostFacet {
  const [feed, id] = splitKey(r.id as string)
  return {
    feed: feed as PostFacet['feed'],
    id: id as PostFacet['id'],
    kind: r.kind as string,
    category: r.category as string,
    themes: (r.themes as string[] | undefined) ?? [],
    status: r.status as string,
    expiresAt: r.expiresAt as number | undefined,
    acceptedAt: (r.acceptedAt as Record<string, number> | undefined) ?? {},
    createdAt: r.createdAt as number,
    lat: r.lat as number | undefined,
    lon: r.lon as number | undefined,
  }
}
