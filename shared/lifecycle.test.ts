import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { canAccept, canAnswer, canClose, canRecordOutcome, canRenew, deriveStatus, type PostState } from './lifecycle.ts'
import { newMemberId, newPostId, newAnswerId, type DocUrl, type MemberId } from './ids.ts'
import { newFeed, newPost, type FeedDoc } from './schema/feed.ts'
import { projectFeed } from './projector.ts'

const author = newMemberId()
const helper = newMemberId()
const other = newMemberId()
const now = 1_000_000
const base: PostState = { author, kind: 'request', status: 'open', expiresAt: now + 1000, helpers: [] }

describe('help lifecycle rules', () => {
  it('derives open, in progress, done, cancelled and expired', () => {
    expect(deriveStatus(base, now)).toBe('open')
    expect(deriveStatus({ ...base, accepted: { [helper]: 1 } }, now)).toBe('in-progress')
    expect(deriveStatus({ ...base, status: 'done' }, now)).toBe('done')
    expect(deriveStatus({ ...base, status: 'cancelled' }, now)).toBe('cancelled')
    expect(deriveStatus(base, now + 2000)).toBe('expired')
    expect(deriveStatus({ ...base, status: 'archived-by-v9' }, now)).toBe('done')
  })

  it('lets a neighbour answer an open request, not its author, not once closed, not an event', () => {
    expect(canAnswer(base, helper, now)).toEqual({ ok: true })
    expect(canAnswer(base, author, now)).toEqual({ ok: false, reason: 'own-post' })
    expect(canAnswer({ ...base, status: 'done' }, helper, now)).toEqual({ ok: false, reason: 'closed' })
    expect(canAnswer(base, helper, now + 2000)).toEqual({ ok: false, reason: 'closed' })
    expect(canAnswer({ ...base, kind: 'event' }, helper, now)).toEqual({ ok: false, reason: 'not-help-kind' })
  })

  it('lets only the author accept, and only someone who answered', () => {
    const answered = { ...base, helpers: [helper] }
    expect(canAccept(answered, author, helper, now)).toEqual({ ok: true })
    expect(canAccept(answered, other, helper, now)).toEqual({ ok: false, reason: 'not-author' })
    expect(canAccept(answered, author, other, now)).toEqual({ ok: false, reason: 'not-answered' })
    expect(canAccept({ ...answered, status: 'cancelled' }, author, helper, now)).toEqual({ ok: false, reason: 'closed' })
  })

  it('lets only the author close once, and renew an expired post', () => {
    expect(canClose(base, author, now)).toEqual({ ok: true })
    expect(canClose(base, helper, now)).toEqual({ ok: false, reason: 'not-author' })
    expect(canClose({ ...base, status: 'done' }, author, now)).toEqual({ ok: false, reason: 'closed' })
    expect(canClose(base, author, now + 2000)).toEqual({ ok: true })
    expect(canRenew(base, author, now + 2000)).toEqual({ ok: true })
    expect(canRenew({ ...base, status: 'done' }, author, now)).toEqual({ ok: false, reason: 'closed' })
  })

  it('records thanks or a no-show only for an accepted helper once done', () => {
    const accepted = { ...base, helpers: [helper], accepted: { [helper]: 5 } }
    expect(canRecordOutcome(accepted, author, helper, now)).toEqual({ ok: false, reason: 'not-over' })
    expect(canRecordOutcome({ ...accepted, status: 'done' }, author, helper, now)).toEqual({ ok: true })
    expect(canRecordOutcome({ ...accepted, status: 'done' }, author, other, now)).toEqual({ ok: false, reason: 'not-accepted' })
    expect(canRecordOutcome({ ...accepted, status: 'done' }, helper, helper, now)).toEqual({ ok: false, reason: 'not-author' })
  })
})

describe('concurrent feeds merge to one state', () => {
  const n = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
  const urls = { author: 'automerge:3AuthorFeed1111111111111' as DocUrl, h1: 'automerge:4Helper1Feed111111111111' as DocUrl, h2: 'automerge:5Helper2Feed111111111111' as DocUrl }

  function stateFrom(feeds: Record<keyof typeof urls, A.Doc<FeedDoc>>, postId: string): PostState & { answers: number } {
    const authorRows = projectFeed(feeds.author, urls.author).rows
    const post = authorRows.find((r) => r.id === postId)!
    const answers = [projectFeed(feeds.h1, urls.h1), projectFeed(feeds.h2, urls.h2)].flatMap((p) => p.answers).filter((a) => a.post === postId && !a.withdrawn)
    return { author: post.author, kind: post.kind, status: post.status, expiresAt: post.expiresAt, accepted: post.acceptedAt, helpers: answers.map((a) => a.author), answers: answers.length }
  }

  it('two helpers answer offline, the author accepts one on a second device, everyone converges', () => {
    const a = newMemberId()
    const h1 = newMemberId()
    const h2 = newMemberId()
    const postId = newPostId()
    let authorPhone = A.change(A.from(newFeed(n, a) as unknown as Record<string, unknown>) as unknown as A.Doc<FeedDoc>, (d) => {
      d.posts[postId] = newPost({ kind: 'request', category: 'lifts', title: 'Aller à la pharmacie', body: '' }, postId, now)
    })
    let authorTablet = A.clone(authorPhone, { actor: '0badc0de' })
    const answer = (owner: MemberId) =>
      A.change(A.from(newFeed(n, owner) as unknown as Record<string, unknown>) as unknown as A.Doc<FeedDoc>, (d) => {
        const id = newAnswerId()
        d.answers![id] = { id, post: { feed: urls.author, id: postId }, message: 'Je peux vous y conduire', createdAt: now + 1 }
      })
    const h1Feed = answer(h1) // offline, in the village
    const h2Feed = answer(h2) // offline, elsewhere

    // The tablet met helper 1 only, and accepts them; the phone meanwhile edits the post's text.
    authorTablet = A.change(authorTablet, (d) => {
      d.posts[postId]!.accepted = { [h1]: now + 2 } as Record<MemberId, number>
    })
    authorPhone = A.change(authorPhone, (d) => {
      d.posts[postId]!.body = 'Mardi matin'
    })

    // Everyone meets, in any order.
    const merged1 = A.merge(A.clone(authorPhone), authorTablet)
    const merged2 = A.merge(A.clone(authorTablet), authorPhone)
    expect(A.getHeads(merged1).sort()).toEqual(A.getHeads(merged2).sort())
    const s1 = stateFrom({ author: merged1, h1: h1Feed, h2: h2Feed }, postId)
    const s2 = stateFrom({ author: merged2, h1: h1Feed, h2: h2Feed }, postId)
    expect(s1).toEqual(s2)
    expect(s1.answers).toBe(2)
    expect(Object.keys(s1.accepted ?? {})).toEqual([h1])
    expect(deriveStatus(s1, now + 3)).toBe('in-progress')
    expect(projectFeed(merged1, urls.author).rows[0]?.body).toBe('Mardi matin')
    // And the second helper can still be accepted by the author; nobody else can.
    expect(canAccept(s1, a, h2, now + 3)).toEqual({ ok: true })
    expect(canAccept(s1, h1, h2, now + 3)).toEqual({ ok: false, reason: 'not-author' })
  })
})
