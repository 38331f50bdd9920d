import { membershipOf, type MemberStatus } from './membership.ts'
import type { AnswerId, CommentId, DocUrl, MemberId, PostId } from './ids.ts'
import { validateAnswerRecord, validateCommentRecord, validateFeed, validatePostRecord, type FeedDoc, type Outcome } from './schema/feed.ts'
import { validateNeighbourhood, type NeighbourhoodDoc } from './schema/neighbourhood.ts'

/**
 * The pure part of the projector: documents in, query-index rows out. The client stores these rows in
 * Dexie; deleting the index and projecting again gives the same rows.
 */
export interface PostRow {
  /** Post ID; unique across the neighbourhood because IDs are random. */
  id: PostId
  neighbourhood: DocUrl
  feed: DocUrl
  author: MemberId
  kind: string
  category: string
  title: string
  body: string
  createdAt: number
  updatedAt: number
  themes: string[]
  /** Raw status as written by the author (absent = open); see lifecycle.deriveStatus. */
  status: string
  expiresAt?: number
  closedAt?: number
  whenStart?: number
  whenEnd?: number
  lat?: number
  lon?: number
  /** Helpers the author accepted. */
  accepted: MemberId[]
  /** The author's raw decisions, kept for the lifecycle rules. */
  acceptedAt: Record<string, number>
  outcomes: Record<string, Outcome>
}

/** An "I can help" from `author` on the post `postFeed`/`post`. */
export interface AnswerRow {
  feed: DocUrl
  id: AnswerId
  author: MemberId
  neighbourhood: DocUrl
  postFeed: DocUrl
  post: PostId
  message: string
  createdAt: number
  withdrawn: boolean
}

export interface CommentRow {
  feed: DocUrl
  id: CommentId
  author: MemberId
  neighbourhood: DocUrl
  postFeed: DocUrl
  post: PostId
  body: string
  createdAt: number
  updatedAt: number
}

/** What a post's author recorded about a helper: thanks (shown on the helper's profile) or a no-show. */
export interface OutcomeRow {
  /** `${postFeed} ${post} ${helper}` */
  key: string
  neighbourhood: DocUrl
  postFeed: DocUrl
  post: PostId
  postTitle: string
  from: MemberId
  helper: MemberId
  kind: Outcome['kind']
  note: string
  at: number
}

export interface MemberRow {
  /** `${neighbourhood} ${memberId}`: a member can belong to several neighbourhoods. */
  key: string
  neighbourhood: DocUrl
  id: MemberId
  displayName: string
  joinedAt: number
  feed: DocUrl
  referent: boolean
  /** shared/membership.ts: référent, member, pending ("new neighbour"), revoked or left. */
  status: MemberStatus
  /** Members who vouched for them. */
  vouchedBy: MemberId[]
}

export interface NeighbourhoodRow {
  url: DocUrl
  name: string
  communeName: string
  postcode: string
  insee: string
  createdAt: number
  memberCount: number
}

export interface FeedProjection {
  rows: PostRow[]
  answers: AnswerRow[]
  comments: CommentRow[]
  outcomes: OutcomeRow[]
  /** Entries that failed validation and were left out (shown nowhere, counted for diagnostics). */
  skipped: number
  /** False when the feed itself is not a feed; nothing is projected from it then. */
  valid: boolean
}

/**
 * The version of what {@link projectFeed} makes of a feed. A device keeps the rows it projected and,
 * on a cold start, does not project again a feed whose version it already holds rows for
 * (client/sync/projector.ts): when the rows a feed gives change (a new field, another rule), bump
 * this, so that every device projects its feeds again. shared/projector.test.ts fails until you do.
 */
export const PROJECTION_VERSION = 1

export function projectFeed(doc: unknown, feedUrl: DocUrl): FeedProjection {
  const feed = validateFeed(doc)
  if (!feed.ok) return { rows: [], answers: [], comments: [], outcomes: [], skipped: 0, valid: false }
  const f: FeedDoc = feed.value
  const out: FeedProjection = { rows: [], answers: [], comments: [], outcomes: [], skipped: 0, valid: true }
  for (const raw of Object.values(f.posts)) {
    const post = projectPost(raw, f, feedUrl)
    if (!post) out.skipped++
    else {
      out.rows.push(post.row)
      out.outcomes.push(...post.outcomes)
    }
  }
  for (const raw of Object.values(f.answers ?? {})) {
    const answer = projectAnswer(raw, f, feedUrl)
    if (answer) out.answers.push(answer)
    else out.skipped++
  }
  for (const raw of Object.values(f.comments ?? {})) {
    const comment = projectComment(raw, f, feedUrl)
    if (comment) out.comments.push(comment)
    else out.skipped++
  }
  out.rows.sort(newestFirst)
  return out
}

const newestFirst = (a: PostRow, b: PostRow) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1)

type Envelope = Pick<FeedDoc, 'neighbourhood' | 'owner'>

/** One post record to its row and outcomes; undefined when it fails validation. */
function projectPost(raw: unknown, f: Envelope, feedUrl: DocUrl): { row: PostRow; outcomes: OutcomeRow[] } | undefined {
  const post = validatePostRecord(raw)
  if (!post.ok) return undefined
  const p = post.value
  const acceptedAt = { ...(p.accepted ?? {}) }
  const outcomes = { ...(p.outcomes ?? {}) } as Record<string, Outcome>
  const row: PostRow = {
    id: p.id,
    neighbourhood: f.neighbourhood,
    feed: feedUrl,
    author: f.owner,
    kind: p.kind,
    category: p.category,
    title: p.title,
    body: p.body,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt ?? p.createdAt,
    themes: [...(p.themes ?? [])],
    status: p.status ?? 'open',
    expiresAt: p.expiresAt,
    closedAt: p.closedAt,
    whenStart: p.when?.start,
    whenEnd: p.when?.end,
    lat: p.place?.lat,
    lon: p.place?.lon,
    accepted: (Object.keys(acceptedAt) as MemberId[]).sort((a, b) => (acceptedAt[a] ?? 0) - (acceptedAt[b] ?? 0)),
    acceptedAt,
    outcomes,
  }
  return {
    row,
    outcomes: Object.entries(outcomes).map(([helper, o]) => ({
      key: `${feedUrl} ${p.id} ${helper}`,
      neighbourhood: f.neighbourhood,
      postFeed: feedUrl,
      post: p.id,
      postTitle: p.title,
      from: f.owner,
      helper: helper as MemberId,
      kind: o.kind,
      note: o.kind === 'thanks' ? String(o.note) : '',
      at: o.at,
    })),
  }
}

function projectAnswer(raw: unknown, f: Envelope, feedUrl: DocUrl): AnswerRow | undefined {
  const answer = validateAnswerRecord(raw)
  if (!answer.ok) return undefined
  const a = answer.value
  return {
    feed: feedUrl,
    id: a.id,
    author: f.owner,
    neighbourhood: f.neighbourhood,
    postFeed: a.post.feed,
    post: a.post.id,
    message: a.message,
    createdAt: a.createdAt,
    withdrawn: a.withdrawnAt !== undefined,
  }
}

function projectComment(raw: unknown, f: Envelope, feedUrl: DocUrl): CommentRow | undefined {
  const comment = validateCommentRecord(raw)
  if (!comment.ok) return undefined
  const c = comment.value
  return {
    feed: feedUrl,
    id: c.id,
    author: f.owner,
    neighbourhood: f.neighbourhood,
    postFeed: c.post.feed,
    post: c.post.id,
    body: c.body,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt ?? c.createdAt,
  }
}

export interface NeighbourhoodProjection {
  neighbourhood: NeighbourhoodRow
  members: MemberRow[]
}

export function projectNeighbourhood(doc: unknown, url: DocUrl): NeighbourhoodProjection | undefined {
  const checked = validateNeighbourhood(doc)
  if (!checked.ok) return undefined
  const n: NeighbourhoodDoc = checked.value
  const membership = membershipOf(n)
  const members = Object.entries(n.members).map(([id, m]) => {
    const status = membership.statusOf(id as MemberId) ?? 'pending'
    return {
      key: `${url} ${id}`,
      neighbourhood: url,
      id: id as MemberId,
      displayName: m.displayName,
      joinedAt: m.joinedAt,
      feed: m.feed,
      referent: status === 'referent',
      status,
      vouchedBy: membership.vouchersOf(id as MemberId),
    }
  })
  members.sort((a, b) => a.joinedAt - b.joinedAt || (a.id < b.id ? -1 : 1))
  return {
    neighbourhood: {
      url,
      name: n.name,
      communeName: n.commune.name,
      postcode: n.commune.postcode,
      insee: n.commune.insee,
      createdAt: n.createdAt,
      memberCount: members.length,
    },
    members,
  }
}

/** What changed in a feed's rows since the previous {@link FeedProjectionCache.update}. */
export interface FeedChanges {
  /** Rows of entries that are new or whose record changed. */
  rows: PostRow[]
  answers: AnswerRow[]
  comments: CommentRow[]
  /** Outcomes of the posts in `rows` (theirs replace whatever those posts had). */
  outcomes: OutcomeRow[]
  /** IDs of entries gone from the feed (or no longer valid). */
  removed: { posts: PostId[]; answers: AnswerId[]; comments: CommentId[] }
}

interface Entry<R> {
  /** The record as the document held it: Automerge keeps unchanged records as the same object. */
  raw: unknown
  /** Its projection, or undefined when it failed validation. */
  value: R | undefined
}

/**
 * One feed's projection, kept between changes so that the next projection touches only what changed.
 * Automerge shares every record a change did not touch between the old and the new version of a
 * document, so a record that is the same object as last time gives the same row and is neither
 * validated nor projected again: a comment in a feed of a thousand posts projects one row, not three
 * thousand. The rows are always those {@link projectFeed} gives for the same document.
 */
export class FeedProjectionCache {
  readonly #feedUrl: DocUrl
  #envelope: Envelope | undefined
  readonly #posts = new Map<string, Entry<{ row: PostRow; outcomes: OutcomeRow[] }>>()
  readonly #answers = new Map<string, Entry<AnswerRow>>()
  readonly #comments = new Map<string, Entry<CommentRow>>()

  constructor(feedUrl: DocUrl) {
    this.#feedUrl = feedUrl
  }

  /** Projects `doc` (the feed's current version): every row, and what changed since the last call. */
  update(doc: unknown): { projection: FeedProjection; changes: FeedChanges } {
    const feed = validateFeed(doc)
    const f = feed.ok ? feed.value : undefined
    const url = this.#feedUrl
    // A new neighbourhood or owner changes every row (and an invalid feed has none): start afresh.
    const gone: FeedChanges['removed'] = { posts: [], answers: [], comments: [] }
    if (!f || this.#envelope?.neighbourhood !== f.neighbourhood || this.#envelope.owner !== f.owner) {
      for (const e of this.#posts.values()) if (e.value) gone.posts.push(e.value.row.id)
      for (const e of this.#answers.values()) if (e.value) gone.answers.push(e.value.id)
      for (const e of this.#comments.values()) if (e.value) gone.comments.push(e.value.id)
      this.#posts.clear()
      this.#answers.clear()
      this.#comments.clear()
      this.#envelope = f && { neighbourhood: f.neighbourhood, owner: f.owner }
    }
    const empty = { rows: [], answers: [], comments: [], outcomes: [] }
    if (!f) return { projection: { ...empty, skipped: 0, valid: false }, changes: { ...empty, removed: gone } }
    // Validation copies the records; the document's own objects are the ones Automerge shares.
    const source = doc as { posts: Record<string, unknown>; answers?: Record<string, unknown>; comments?: Record<string, unknown> }
    const posts = refresh(this.#posts, source.posts, (raw) => projectPost(raw, f, url), (p) => p.row.id)
    const answers = refresh(this.#answers, source.answers ?? {}, (raw) => projectAnswer(raw, f, url), (a) => a.id)
    const comments = refresh(this.#comments, source.comments ?? {}, (raw) => projectComment(raw, f, url), (c) => c.id)
    return {
      projection: {
        rows: posts.all.map((p) => p.row).sort(newestFirst),
        answers: answers.all,
        comments: comments.all,
        outcomes: posts.all.flatMap((p) => p.outcomes),
        skipped: posts.skipped + answers.skipped + comments.skipped,
        valid: true,
      },
      changes: {
        rows: posts.changed.map((p) => p.row),
        answers: answers.changed,
        comments: comments.changed,
        outcomes: posts.changed.flatMap((p) => p.outcomes),
        removed: {
          posts: [...gone.posts, ...posts.removed] as PostId[],
          answers: [...gone.answers, ...answers.removed] as AnswerId[],
          comments: [...gone.comments, ...comments.removed] as CommentId[],
        },
      },
    }
  }
}

/**
 * Brings `entries` up to `records`, projecting only the records that are not the object seen last time.
 * `removed`: IDs whose row is gone (the record was deleted, became invalid, or now says another ID).
 */
function refresh<R>(entries: Map<string, Entry<R>>, records: Record<string, unknown>, project: (raw: unknown) => R | undefined, idOf: (r: R) => string) {
  const all: R[] = []
  const changed: R[] = []
  const removed: string[] = []
  let skipped = 0
  const seen = new Set<string>()
  for (const [key, raw] of Object.entries(records)) {
    seen.add(key)
    let entry = entries.get(key)
    if (!entry || entry.raw !== raw) {
      const before = entry?.value
      entry = { raw, value: project(raw) }
      entries.set(key, entry)
      if (entry.value) changed.push(entry.value)
      if (before && (!entry.value || idOf(before) !== idOf(entry.value))) removed.push(idOf(before))
    }
    if (entry.value) all.push(entry.value)
    else skipped++
  }
  for (const [key, entry] of entries) {
    if (seen.has(key)) continue
    entries.delete(key)
    if (entry.value) removed.push(idOf(entry.value))
  }
  return { all, changed, removed, skipped }
}
