import { describe, expect, it } from 'vitest'
import { checkPostInput, newFeed, newPost, validateFeed, validatePostRecord } from './feed.ts'
import { newMemberId, newPostId, type DocUrl } from '../ids.ts'
import { isPlacetteError } from '../errors.ts'

const nUrl = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl

describe('feed schema', () => {
  it('accepts a new feed', () => {
    expect(validateFeed(newFeed(nUrl, newMemberId())).ok).toBe(true)
  })

  it('refuses a document that is not a feed, saying which field is wrong', () => {
    const result = validateFeed({ schemaVersion: 1, type: 'placette/neighbourhood', posts: {} })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['type', 'neighbourhood', 'owner']))
  })

  it('keeps fields written by a newer version', () => {
    const feed = { ...newFeed(nUrl, newMemberId()), schemaVersion: 2, badges: ['x'] }
    const result = validateFeed(feed)
    expect(result.ok && (result.value as unknown as { badges: string[] }).badges).toEqual(['x'])
  })

  it('reads titles stored as Automerge immutable strings', () => {
    const post = { id: newPostId(), kind: 'offer', category: 'diy', title: { val: 'Perceuse' }, body: { val: '' }, createdAt: 1 }
    const result = validatePostRecord(post)
    expect(result.ok && result.value.title).toBe('Perceuse')
  })
})

describe('post input', () => {
  it('accepts a request with a title', () => {
    expect(checkPostInput({ kind: 'request', category: 'lifts', title: 'Aller au marché', body: 'Samedi' }).ok).toBe(true)
  })

  it('says a missing title is required', () => {
    const result = checkPostInput({ kind: 'request', category: 'lifts', title: '   ', body: '' })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues).toContainEqual(expect.objectContaining({ path: 'title', code: 'required' }))
  })

  it('says an unchosen category is required', () => {
    const result = checkPostInput({ kind: 'request', category: '', title: 'x', body: '' })
    expect(!result.ok && result.issues).toEqual([expect.objectContaining({ path: 'category', code: 'required' })])
  })

  it('refuses an unknown kind and a too-long body', () => {
    const result = checkPostInput({ kind: 'spam', category: 'lifts', title: 'x', body: 'a'.repeat(5000) })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.issues).toContainEqual(expect.objectContaining({ path: 'kind', code: 'not-allowed' }))
      expect(result.issues).toContainEqual(expect.objectContaining({ path: 'body', code: 'too-long' }))
    }
  })

  it('newPost throws a named error listing the bad fields', () => {
    try {
      newPost({ kind: 'offer', category: 'nope', title: '' , body: ''}, newPostId(), 1)
      expect.unreachable()
    } catch (e) {
      expect(isPlacetteError(e) && e.reason).toBe('invalid-input')
      expect(isPlacetteError(e) && e.issues.length).toBe(2)
    }
  })
})
