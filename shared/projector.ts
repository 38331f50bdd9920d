import type { DocUrl, MemberId, PostId } from './ids.ts'
import { validateFeed, validatePostRecord, type FeedDoc } from './schema/feed.ts'
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
  /** Posts that failed validation and were left out (shown nowhere, counted for diagnostics). */
  skipped: number
  /** False when the feed itself is not a feed; nothing is projected from it then. */
  valid: boolean
}

export function projectFeed(doc: unknown, feedUrl: DocUrl): FeedProjection {
  const feed = validateFeed(doc)
  if (!feed.ok) return { rows: [], skipped: 0, valid: false }
  const f: FeedDoc = feed.value
  const rows: PostRow[] = []
  let skipped = 0
  for (const raw of Object.values(f.posts)) {
    const post = validatePostRecord(raw)
    if (!post.ok) {
      skipped++
      continue
    }
    const p = post.value
    rows.push({
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
    })
  }
  rows.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
  return { rows, skipped, valid: true }
}

export interface NeighbourhoodProjection {
  neighbourhood: NeighbourhoodRow
  members: MemberRow[]
}

export function projectNeighbourhood(doc: unknown, url: DocUrl): NeighbourhoodProjection | undefined {
  const checked = validateNeighbourhood(doc)
  if (!checked.ok) return undefined
  const n: NeighbourhoodDoc = checked.value
  const referents = new Set(n.referents)
  const members = Object.entries(n.members).map(([id, m]) => ({
    key: `${url} ${id}`,
    neighbourhood: url,
    id: id as MemberId,
    displayName: m.displayName,
    joinedAt: m.joinedAt,
    feed: m.feed,
    referent: referents.has(id as MemberId),
  }))
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
