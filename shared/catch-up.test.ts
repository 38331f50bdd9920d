import * as A from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { HEAD_BYTES, MAX_CATCH_UP_BYTES, packHeads, parseCatchUp, unpackHeads } from './catch-up.ts'
import { digestEntry, hexToBytes, KEY_BYTES } from './heads-digest.ts'
import { generateMemberKeys } from './identity.ts'
import { changeSigned, checkFeed } from './signed-changes.ts'

const FEED_ID = '2xX1Thm3yJRan6sCcFC9ipqr8R9C'
const key = hexToBytes(digestEntry(FEED_ID, []).key)
const heads = new Uint8Array(HEAD_BYTES).fill(7)

describe('catch-up bundles on the wire', () => {
  it('reads a well-formed list, and an absent one as empty', () => {
    expect(parseCatchUp(undefined)).toEqual({ ok: true, documents: [] })
    const doc = { key, heads, changes: new Uint8Array([1, 2, 3]) }
    expect(parseCatchUp([doc])).toEqual({ ok: true, documents: [doc] })
  })

  it('refuses anything malformed, whole, with a reason', () => {
    const good = { key, heads, changes: new Uint8Array([1]) }
    const cases: [unknown, string][] = [
      [{}, 'catch-up is not a list'],
      [[1], 'catch-up entry is not a map'],
      [[{ ...good, key: new Uint8Array(KEY_BYTES - 1) }], 'bad catch-up key'],
      [[{ ...good, key: 'abcd' }], 'bad catch-up key'],
      [[{ ...good, heads: new Uint8Array(HEAD_BYTES + 1) }], 'bad catch-up heads'],
      [[{ ...good, heads: new Uint8Array(0) }], 'bad catch-up heads'],
      [[{ ...good, heads: new Uint8Array(65 * HEAD_BYTES) }], 'bad catch-up heads'],
      [[{ ...good, changes: new Uint8Array(0) }], 'bad catch-up changes'],
      [[{ ...good, changes: [1, 2] }], 'bad catch-up changes'],
      [[good, good], 'catch-up names a document twice'],
      [[{ ...good, changes: new Uint8Array(MAX_CATCH_UP_BYTES + 1) }], 'catch-up too large'],
    ]
    for (const [value, detail] of cases) expect(parseCatchUp(value)).toEqual({ ok: false, detail })
  })

  it('packs heads and reads them back', () => {
    const hs = [A.getHeads(A.from({ a: 1 }))[0]!, A.getHeads(A.from({ b: 2 }))[0]!]
    expect(unpackHeads(packHeads(hs))).toEqual(hs)
  })
})

describe('a catch-up bundle applied to a feed', () => {
  it('brings the copy to the same heads, and every signature still verifies', () => {
    const keys = generateMemberKeys()
    const sign = (doc: A.Doc<{ posts: Record<string, string> }>, id: string) =>
      changeSigned(doc, (d) => void (d.posts[id] = `post ${id}`), { documentId: FEED_ID, secretKey: keys.secretKey })
    let feed = sign(A.from<{ posts: Record<string, string> }>({ posts: {} }), 'a')
    const away = A.clone(feed)
    const known = A.getHeads(away)
    for (const id of ['b', 'c', 'd']) feed = sign(feed, id)

    const caughtUp = A.loadIncremental(away, A.saveSince(feed, known))
    expect(A.getHeads(caughtUp).sort()).toEqual(A.getHeads(feed).sort())
    const check = checkFeed(caughtUp, { documentId: FEED_ID, publicKey: keys.publicKey })
    expect(check.signed).toBe(true)
    expect(check.invalid).toEqual([])
    expect(check.heads.sort()).toEqual(A.getHeads(feed).sort())
    // Applying it twice changes nothing: no change is held twice.
    const twice = A.loadIncremental(caughtUp, A.saveSince(feed, known))
    expect(A.getAllChanges(twice).length).toBe(A.getAllChanges(feed).length)
  })
})
