import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { newAnswerId, newCommentId, newMemberId, newPostId, type DocUrl } from '../ids.ts'
import { projectFeed } from '../projector.ts'
import { newFeed, newPost, type FeedDoc } from './feed.ts'
import { immutable, sameRef, storedAnswer, storedComment, storedPost } from './stored.ts'

const hood = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
const other = 'automerge:3k9knpCseyhnK8izDmLpGP5WMdZR' as DocUrl
const owner = newMemberId()
const helper = newMemberId()
const postId = newPostId()
const answerId = newAnswerId()
const commentId = newCommentId()
const post = newPost({ kind: 'request', category: 'diy', title: 'Besoin d’une perceuse', body: 'Samedi matin', themes: ['bricolage'] }, postId, 1_700_000_000_000)
const ref = { feed: other, id: postId }

/** The same feed, written with plain strings (as versions before stored.ts did) or as stored.ts writes it. */
function feed(stored: boolean): A.Doc<FeedDoc> {
  return A.change(A.from(newFeed(hood, owner) as unknown as Record<string, unknown>) as A.Doc<FeedDoc>, (d) => {
    d.posts[postId] = stored ? storedPost(post) : { ...post }
    const p = d.posts[postId]!
    p.status = stored ? immutable('done') : 'done'
    p.closedAt = 1_700_000_100_000
    p.accepted = { [helper]: 1_700_000_050_000 } as FeedDoc['posts'][typeof postId]['accepted']
    p.outcomes = { [helper]: { kind: stored ? immutable('thanks') : 'thanks', note: stored ? immutable('Merci !') : 'Merci !', at: 1_700_000_200_000 } } as never
    const answer = { id: answerId, post: ref, message: 'Je peux', createdAt: 1_700_000_010_000 }
    const comment = { id: commentId, post: ref, body: 'Je passe à 18 h', createdAt: 1_700_000_020_000 }
    d.answers = { [answerId]: stored ? storedAnswer(answer) : answer } as FeedDoc['answers']
    d.comments = { [commentId]: stored ? storedComment(comment) : comment } as FeedDoc['comments']
  })
}

describe('feed records stored as immutable strings', () => {
  it('project to the same rows as records written as text', () => {
    const url = 'automerge:4m9knpCseyhnK8izDmLpGP5WMdZS' as DocUrl
    const asText = projectFeed(feed(false), url)
    const asStored = projectFeed(feed(true), url)
    expect(asStored.skipped).toBe(0)
    expect(asStored).toEqual(asText)
    expect(asStored.rows[0]).toMatchObject({ id: postId, kind: 'request', category: 'diy', status: 'done', themes: ['bricolage'] })
    expect(asStored.answers[0]).toMatchObject({ id: answerId, postFeed: other, post: postId })
    expect(asStored.outcomes[0]).toMatchObject({ kind: 'thanks', note: 'Merci !' })
    // Plain strings in the rows (IndexedDB indexes them), not Automerge objects.
    expect(typeof asStored.rows[0]!.id).toBe('string')
    expect(typeof asStored.comments[0]!.postFeed).toBe('string')
  })

  it('take fewer bytes than text', () => {
    expect(A.save(feed(true)).byteLength).toBeLessThan(A.save(feed(false)).byteLength)
  })

  it('still refuses an ID that is not one', () => {
    const doc = A.change(feed(true), (d) => void (d.comments![commentId]!.post.id = immutable('../../etc' as never)))
    expect(projectFeed(doc, hood).skipped).toBe(1)
  })

  it('compare as references whichever way they were written', () => {
    const doc = feed(true)
    expect(sameRef(doc.answers![answerId]!.post, ref)).toBe(true)
    expect(sameRef(feed(false).answers![answerId]!.post, ref)).toBe(true)
    expect(sameRef(doc.answers![answerId]!.post, { feed: hood, id: postId })).toBe(false)
  })

  it('leave a string already stored as it is when written again', () => {
    // Read from a stored copy, as a forged file or a migration would (a copy in another document).
    const read = feed(true).posts[postId]!
    const doc = A.change(A.from(newFeed(hood, owner) as unknown as Record<string, unknown>) as A.Doc<FeedDoc>, (d) => void (d.posts[postId] = storedPost({ ...read, themes: [...read.themes!] })))
    expect(projectFeed(doc, hood).rows[0]).toMatchObject({ id: postId, kind: 'request', title: 'Besoin d’une perceuse' })
  })
})
