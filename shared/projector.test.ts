import { encodeKey, generateMemberKeys, memberIdFor } from './identity.ts'
import { describe, expect, it } from 'vitest'
import { projectFeed, projectNeighbourhood } from './projector.ts'
import { newFeed, newPost } from './schema/feed.ts'
import { newNeighbourhood } from './schema/neighbourhood.ts'
import { newMemberId, newPostId, type DocUrl, type PostId } from './ids.ts'

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
