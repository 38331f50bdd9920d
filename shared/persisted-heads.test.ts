import { describe, expect, it } from 'vitest'
import { announcesFeature, parsePersistedHeads, PERSISTED_HEADS_FEATURE, PERSISTED_HEADS_TYPE } from './persisted-heads.ts'

const head = 'ab'.repeat(32)
const valid = { type: PERSISTED_HEADS_TYPE, senderId: 'relay-1', targetId: 'device-2', documentId: '2xHHnsWzB2fCYqqf2KWXp1ryWgtm', heads: [head] }

describe('persisted-heads messages', () => {
  it('accepts a well-formed report and copies its heads', () => {
    const parsed = parsePersistedHeads(valid)
    expect(parsed).toEqual({ ok: true, message: valid })
    if (parsed.ok) expect(parsed.message.heads).not.toBe(valid.heads)
  })

  it('refuses bad ids, bad heads and too many heads', () => {
    for (const bad of [
      { ...valid, senderId: 'a/b' },
      { ...valid, targetId: 7 },
      { ...valid, documentId: 'not base58 0OIl' },
      { ...valid, heads: 'ab' },
      { ...valid, heads: ['xyz'] },
      { ...valid, heads: [head.toUpperCase()] },
      { ...valid, heads: Array.from({ length: 257 }, () => head) },
      { ...valid, type: 'sync' },
      null,
    ])
      expect(parsePersistedHeads(bad).ok).toBe(false)
  })

  it('reads the feature from peer metadata, leniently', () => {
    expect(announcesFeature({ placetteFeatures: [PERSISTED_HEADS_FEATURE] }, PERSISTED_HEADS_FEATURE)).toBe(true)
    expect(announcesFeature({ placetteFeatures: ['other'] }, PERSISTED_HEADS_FEATURE)).toBe(false)
    expect(announcesFeature({ placetteFeatures: PERSISTED_HEADS_FEATURE }, PERSISTED_HEADS_FEATURE)).toBe(false)
    expect(announcesFeature({ storageId: 's' }, PERSISTED_HEADS_FEATURE)).toBe(false)
    expect(announcesFeature(undefined, PERSISTED_HEADS_FEATURE)).toBe(false)
  })
})
