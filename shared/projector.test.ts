import { encodeKey, generateMemberKeys, memberIdFor } from './identity.ts'
import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { createHash } from 'node:crypto'
import { FeedProjectionCache, PROJECTION_VERSION, projectFeed, projectNeighbourhood } from './projector.ts'
import { newFeed, newPost, type FeedDoc } from './schema/feed.ts'
import { newNeighbourhood } from './schema/neighbourhood.ts'
import { newCommentId, newMemberId, newPostId, type AnswerId, type CommentId, type DocUrl, type MemberId, type PostId } from './ids.ts'

const nUrl = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
const fUrl = 'automerge:3k9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl

function feedWith(count: number) {
  const feed = newFeed(nUrl, newMemberId())
  for (let i = 0; i < count; i++) {
    const id = newPostId()
    feed.posts[id] = newPost({ kind: i % 2 ? 'offer' : 'request', category: 'diy', title: `Post ${i}`, body: '' }, id, 1000 + i)
  }
  return feed
}

describe('projector', () => {
  it('gives the rows of its version: change them, bump PROJECTION_VERSION (devices keep rows across starts)', () => {
    const owner = 'm1111111111111111111111' as MemberId
    const helper = 'm2222222222222222222222' as MemberId
    const post = 'p1111111111111111111111' as PostId
    const other = { feed: 'automerge:4k9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl, id: 'p3333333333333333333333' as PostId }
    const feed = newFeed(nUrl, owner)
    feed.posts[post] = {
      ...newPost({ kind: 'request', category: 'lifts', title: 'Aller à la pharmacie', body: 'Jeudi matin', themes: ['santé'], when: { start: 5000, end: 9000 }, place: { lat: 46.1, lon: 4.9 } }, post, 1000),
      status: 'done',
      closedAt: 3000,
      updatedAt: 2000,
      accepted: { [helper]: 1500 },
      outcomes: { [helper]: { kind: 'thanks', note: 'Merci !', at: 3000 } },
    }
    feed.answers = { ['a1111111111111111111111' as AnswerId]: { id: 'a1111111111111111111111' as AnswerId, post: other, message: 'Je peux', createdAt: 1200, withdrawnAt: 1300 } }
    feed.comments = { ['c1111111111111111111111' as CommentId]: { id: 'c1111111111111111111111' as CommentId, post: other, body: 'Bonne idée', createdAt: 1100 } }
    const projection = projectFeed(feed, fUrl)
    expect(projection.rows).toHaveLength(1)
    const digest = createHash('sha256').update(JSON.stringify(projection)).digest('hex').slice(0, 16)
    // If this fails because you changed the rows on purpose: bump PROJECTION_VERSION, then update both.
    expect({ version: PROJECTION_VERSION, digest }).toEqual({ version: 1, digest: '855307e1e7c5960d' })
  })

  it('maps every post of a feed to a row, newest first, with its author', () => {
    const feed = feedWith(3)
    const { rows, valid } = projectFeed(feed, fUrl)
    expect(valid).toBe(true)
    expect(rows.map((r) => r.title)).toEqual(['Post 2', 'Post 1', 'Post 0'])
    expect(rows.every((r) => r.author === feed.owner && r.feed === fUrl && r.neighbourhood === nUrl)).toBe(true)
  })

  it('is idempotent: projecting twice gives the same rows', () => {
    const feed = feedWith(5)
    expect(projectFeed(feed, fUrl)).toEqual(projectFeed(structuredClone(feed), fUrl))
  })

  it('skips a malformed post without hiding the others', () => {
    const feed = feedWith(2)
    feed.posts['pbad' as PostId] = { id: 'pbad' } as never
    const { rows, skipped } = projectFeed(feed, fUrl)
    expect(rows).toHaveLength(2)
    expect(skipped).toBe(1)
  })

  it('projects nothing from a document that is not a feed', () => {
    expect(projectFeed({ hello: 'world' }, fUrl)).toEqual({ rows: [], answers: [], comments: [], outcomes: [], skipped: 0, valid: false })
  })

  it('projects a neighbourhood and its members, marking référents', () => {
    const keys = generateMemberKeys()
    const me = memberIdFor(keys.publicKey)
    const doc = newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Jeanne', creatorFeed: fUrl, creatorKey: encodeKey(keys.publicKey), now: 5 })
    const p = projectNeighbourhood(doc, nUrl)
    expect(p?.neighbourhood).toMatchObject({ name: 'Le Bourg', memberCount: 1, postcode: '01400' })
    expect(p?.members[0]).toMatchObject({ id: me, displayName: 'Jeanne', referent: true, status: 'referent' })
    // An entry whose key does not match its ID is nobody's: never a référent.
    const forged = newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: newMemberId(), creatorName: 'Jeanne', creatorFeed: fUrl, creatorKey: encodeKey(keys.publicKey), now: 5 })
    expect(projectNeighbourhood(forged, nUrl)?.members[0]).toMatchObject({ referent: false, status: 'pending' })
    expect(projectNeighbourhood({}, nUrl)).toBeUndefined()
  })
})

describe('feed projection cache', () => {
  // An Automerge document, as the projector sees it: unchanged records stay the same objects.
  const amFeed = (count: number) => A.from(feedWith(count) as unknown as Record<string, unknown>) as A.Doc<FeedDoc>
  const firstPost = (d: A.Doc<FeedDoc>) => Object.values(d.posts).sort((a, b) => a.createdAt - b.createdAt)[0]!

  it('reports every row as new the first time, then only what a change touched', () => {
    let doc = amFeed(50)
    const cache = new FeedProjectionCache(fUrl)
    expect(cache.update(doc).changes.rows).toHaveLength(50)
    const target = firstPost(doc)
    doc = A.change(doc, (d) => {
      d.posts[target.id]!.status = 'done'
      const id = newCommentId()
      ;(d.comments ??= {})[id] = { id, post: { feed: fUrl, id: target.id }, body: 'Merci !', createdAt: 5000 }
    })
    const { projection, changes } = cache.update(doc)
    expect(changes.rows.map((r) => [r.id, r.status])).toEqual([[target.id, 'done']])
    expect(changes.comments.map((c) => c.body)).toEqual(['Merci !'])
    expect(changes.removed).toEqual({ posts: [], answers: [], comments: [] })
    expect(projection).toEqual(projectFeed(doc, fUrl))
  })

  it('reports deleted and no longer valid records as removed', () => {
    let doc = amFeed(3)
    const cache = new FeedProjectionCache(fUrl)
    cache.update(doc)
    const [a, b] = Object.values(doc.posts).map((p) => p.id)
    doc = A.change(doc, (d) => {
      delete d.posts[a!]
      d.posts[b!]!.createdAt = -1
    })
    const { projection, changes } = cache.update(doc)
    expect(changes.removed.posts.sort()).toEqual([a, b].sort())
    expect(changes.rows).toEqual([])
    expect(projection).toEqual(projectFeed(doc, fUrl))
    expect(projection.skipped).toBe(1)
  })

  it('starts afresh when the feed is no longer a feed', () => {
    const doc = amFeed(2)
    const cache = new FeedProjectionCache(fUrl)
    cache.update(doc)
    const { projection, changes } = cache.update(A.change(doc, (d) => void ((d as { type: string }).type = 'something else')))
    expect(projection.valid).toBe(false)
    expect(changes.removed.posts).toHaveLength(2)
  })
})
