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

export function projectFeed(doc: unknown, feedUrl: DocUrl): FeedProjection {
  const feed = validateFeed(doc)
  if (!feed.ok) return { rows: [], answers: [], comments: [], outcomes: [], skipped: 0, valid: false }
  const f: FeedDoc = feed.value
  const out: FeedProjection = { rows: [], answers: [], comments: [], outcomes: [], skipped: 0, valid: true }
  for (const raw of Object.values(f.posts)) {
    const post = validatePostRecord(raw)
    if (!post.ok) {
      out.skipped++
      continue
    }
    const p = post.value
    const acceptedAt = { ...(p.accepted ?? {}) }
    const outcomes = { ...(p.outcomes ?? {}) } as Record<string, Outcome>
    out.rows.push({
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
    })
    for (const [helper, o] of Object.entries(outcomes)) {
      out.outcomes.push({
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
      })
    }
  }
  for (const raw of Object.values(f.answers ?? {})) {
    const answer = validateAnswerRecord(raw)
    if (!answer.ok) {
      out.skipped++
      continue
    }
    const a = answer.value
    out.answers.push({
      feed: feedUrl,
      id: a.id,
      author: f.owner,
      neighbourhood: f.neighbourhood,
      postFeed: a.post.feed,
      post: a.post.id,
      message: a.message,
      createdAt: a.createdAt,
      withdrawn: a.withdrawnAt !== undefined,
    })
  }
  for (const raw of Object.values(f.comments ?? {})) {
    const comment = validateCommentRecord(raw)
    if (!comment.ok) {
      out.skipped++
      continue
    }
    const c = comment.value
    out.comments.push({
      feed: feedUrl,
      id: c.id,
      author: f.owner,
      neighbourhood: f.neighbourhood,
      postFeed: c.post.feed,
      post: c.post.id,
      body: c.body,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt ?? c.createdAt,
    })
  }
  out.rows.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
  return out
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
