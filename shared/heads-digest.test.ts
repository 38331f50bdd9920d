import { describe, expect, it } from 'vitest'
import {
  BUCKET_HASH_BYTES,
  bucketHashes,
  compareWithAnswer,
  coveredDocuments,
  differingBuckets,
  DIGEST_BUCKETS,
  digestEntry,
  packEntries,
  packKeys,
  parseDigestAnswers,
  parseDigestRequests,
  unpackKeys,
} from './heads-digest.ts'
import { parseClientMessage } from './protocol.ts'

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const ids = Array.from({ length: 60 }, (_, i) => `4NMNnkMhL8jXrdJ9jamS2${B58[i % 58]}${B58[Math.floor(i / 58)]}`)
const heads = (n: number) => [n.toString(16).padStart(64, '0')]

describe('heads digest entries', () => {
  it('do not depend on the order of heads, and change with the heads or the document', () => {
    const a = digestEntry(ids[0]!, ['aa', 'bb'])
    expect(digestEntry(ids[0]!, ['bb', 'aa']).hash).toEqual(a.hash)
    expect(digestEntry(ids[0]!, ['aa']).hash).not.toEqual(a.hash)
    expect(digestEntry(ids[1]!, ['aa', 'bb']).hash).not.toEqual(a.hash)
    expect(a.bucket).toBeGreaterThanOrEqual(0)
    expect(a.bucket).toBeLessThan(DIGEST_BUCKETS)
  })

  it('give the same bucket hashes whatever the order of documents', () => {
    const entries = ids.map((id, n) => digestEntry(id, heads(n)))
    const hashes = bucketHashes(entries)
    expect(hashes.byteLength).toBe(DIGEST_BUCKETS * BUCKET_HASH_BYTES)
    expect(bucketHashes([...entries].reverse())).toEqual(hashes)
    expect(differingBuckets(hashes, bucketHashes([...entries].reverse()))).toBe(0)
  })
})

describe('comparing a client digest with the relay answer', () => {
  const client = ids.map((id, n) => digestEntry(id, heads(n)))
  /** The relay's side: what it answers for the client's bucket hashes. */
  const answer = (relay: ReturnType<typeof digestEntry>[]) => {
    const differ = differingBuckets(bucketHashes(relay), bucketHashes(client))
    return { differ, entries: packEntries(relay, differ) }
  }

  it('finds nothing to sync when both hold the same heads, and lists no entry', () => {
    const a = answer(client)
    expect(a.differ).toBe(0)
    expect(a.entries.byteLength).toBe(0)
    expect(compareWithAnswer(client, a).differ).toEqual([])
  })

  it('names exactly the documents that changed on either side', () => {
    const relay = client.map((e, n) => (n === 3 ? digestEntry(e.documentId, heads(1000)) : e))
    const mine = client.map((e, n) => (n === 40 ? digestEntry(e.documentId, heads(2000)) : e))
    const differ = differingBuckets(bucketHashes(relay), bucketHashes(mine))
    const result = compareWithAnswer(mine, { differ, entries: packEntries(relay, differ) })
    expect(result.differ.map((e) => e.documentId).sort()).toEqual([ids[3], ids[40]].sort())
    expect(result.same).toHaveLength(ids.length - 2)
    // Only the differing buckets' entries cross the wire.
    expect(packEntries(relay, differ).byteLength).toBeLessThan(packEntries(relay, 2 ** DIGEST_BUCKETS - 1).byteLength)
  })

  it('counts a document the relay lacks as differing', () => {
    const relay = client.slice(1)
    expect(compareWithAnswer(client, answer(relay)).differ.map((e) => e.documentId)).toEqual([ids[0]])
  })

  it('syncs everything when the relay has nothing to compare with', () => {
    expect(compareWithAnswer(client, { differ: 2 ** DIGEST_BUCKETS - 1 }).differ).toHaveLength(ids.length)
  })

  it('packs and unpacks unsaved keys', () => {
    expect(unpackKeys(packKeys(client.slice(0, 3)))).toEqual(new Set(client.slice(0, 3).map((e) => e.key)))
    expect(unpackKeys(undefined)).toEqual(new Set())
  })
})

describe('covered documents', () => {
  it('are the neighbourhood and the feeds its registry lists, skipping malformed entries', () => {
    const n = { type: 'placette/neighbourhood', members: { a: { feed: `automerge:${ids[1]}` }, b: { feed: 'http://x' }, c: null, d: { feed: `automerge:${ids[2]}` } } }
    expect(coveredDocuments(ids[0]!, n)).toEqual([ids[0], ids[1], ids[2]])
    expect(coveredDocuments(ids[0]!, 'junk')).toEqual([ids[0]])
  })
})

describe('digest messages', () => {
  const good = { neighbourhood: ids[0], buckets: new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES) }
  const join = (placetteDigest: unknown) => parseClientMessage({ type: 'join', senderId: 'device-a', peerMetadata: { placetteDigest }, supportedProtocolVersions: ['1'] })

  it('accept a well-formed digest in a join, and a join without one', () => {
    expect(parseDigestRequests([good])).toEqual({ ok: true, requests: [good] })
    expect(join([good]).ok).toBe(true)
    expect(join(undefined).ok).toBe(true)
  })

  it('refuse a malformed digest, which closes the socket as a protocol violation', () => {
    for (const bad of [
      'x',
      [{ ...good, buckets: new Uint8Array(3) }],
      [{ ...good, neighbourhood: '../etc' }],
      [{ ...good, buckets: 'x' }],
      Array.from({ length: 9 }, () => good),
    ]) {
      expect(parseDigestRequests(bad).ok).toBe(false)
      expect(join(bad).ok).toBe(false)
    }
  })

  it('leave out malformed answers from the relay (those digests sync everything)', () => {
    const answers = parseDigestAnswers([
      { differ: 0 },
      { differ: 2 ** 16 },
      { differ: 1, entries: new Uint8Array(7) },
      { differ: 1, entries: new Uint8Array(10), unsaved: new Uint8Array(4) },
      'junk',
    ])
    expect(answers.map((a) => a?.differ)).toEqual([0, undefined, undefined, 1, undefined])
    expect(parseDigestAnswers('junk')).toEqual([])
  })
})
