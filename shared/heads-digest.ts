/**
 * The heads digest (DESIGN.md §2): on (re)connecting, a Placette client tells the relay, per
 * neighbourhood, a compact summary of the (document ID, heads) pairs it holds, so that only the
 * documents that differ run an automerge-repo sync exchange. A reconnect that finds nothing new then
 * costs the join and its answer, a little longer, instead of a sync exchange (≈ 250 B) per document.
 *
 * The documents covered are the neighbourhood document and the member feeds its registry lists
 * (`coveredDocuments`), which both ends can name from their own copy of the neighbourhood. Each is
 * hashed with its heads into one entry; entries fall into {@link DIGEST_BUCKETS} buckets by a hash of
 * the document ID, and a bucket's hash is the XOR of its entries' hashes (order does not matter, a
 * document on one side only changes it).
 *
 * It rides on the handshake, so it costs no round trip of its own:
 *   join (client → relay)  `peerMetadata.placetteDigest`: per neighbourhood, the bucket hashes
 *   peer (relay → client)  `peerMetadata.placetteDigest`: per digest, which buckets differ and, for
 *                          those only, the relay's entries (4-byte key + 6-byte hash per document)
 * From the answer the client knows, before automerge-repo starts syncing, exactly which of its
 * documents differ, and lets only those sync. A stock server ignores the extra metadata and answers
 * without it; so does an older Placette relay: the client then syncs everything, as before. The
 * relay's entries name only documents the gate lets that client read.
 *
 * Pure: no automerge-repo at run time.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import type { CatchUpDocument } from './catch-up.ts'

/** Buckets per neighbourhood; a bitmask of differing buckets fits in 16 bits. */
export const DIGEST_BUCKETS = 16
/** Bytes of a bucket hash: a false "same" needs a 40-bit collision. */
export const BUCKET_HASH_BYTES = 5
/** Bytes naming a document in an answer (a hash of its ID). */
export const KEY_BYTES = 4
/** Bytes of a document's (ID, heads) hash in an answer. */
export const ENTRY_HASH_BYTES = 6
const ENTRY_BYTES = KEY_BYTES + ENTRY_HASH_BYTES
/** Documents an answer may list (a neighbourhood of 200 members has 201). */
export const MAX_DIGEST_ENTRIES = 50_000
/** Neighbourhoods one join may send a digest for. */
export const MAX_DIGESTS = 8

/** In the join: the bucket hashes of the documents of one neighbourhood the client holds. */
export interface DigestRequest {
  /** The neighbourhood document's ID (automerge-repo's, base58check). */
  neighbourhood: string
  /** {@link DIGEST_BUCKETS} × {@link BUCKET_HASH_BYTES} bytes. */
  buckets: Uint8Array
}

/**
 * In the relay's `peer` answer, one per digest of the join, in the same order (the answer comes on the
 * same socket as the join, so it cannot be taken for another's): which buckets differ and, for those,
 * the relay's entries.
 */
export interface DigestAnswer {
  /** Bit `b` set: bucket `b` differs. */
  differ: number
  /** The relay's entries in differing buckets, {@link KEY_BYTES} + {@link ENTRY_HASH_BYTES} bytes each (absent: none). */
  entries?: Uint8Array
  /** Keys of covered documents whose current heads are not yet on the relay's disk (persisted-heads.ts; absent: none). */
  unsaved?: Uint8Array
  /**
   * Documents of differing buckets brought up to date, to clients that announce the catch-up
   * feature (catch-up.ts; absent: none). Checked apart, by `parseCatchUp`: a malformed list is refused
   * on its own, the rest of the answer still stands.
   */
  catchUp?: CatchUpDocument[]
}

/** One document's place in the digest. */
export interface DigestEntry {
  documentId: string
  /** Hex of the first {@link KEY_BYTES} bytes of the ID's hash: how a reply names the document. */
  key: string
  bucket: number
  /** The (ID, heads) hash (its first bytes go into bucket hashes and answers). */
  hash: Uint8Array
}

/** Hex of bytes (how digest keys and heads are named). */
export const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')

/** The digest entry of `documentId` at `heads` (any order). */
export function digestEntry(documentId: string, heads: readonly string[]): DigestEntry {
  const id = sha256(utf8ToBytes(`placette-digest-key\n${documentId}`))
  const hash = sha256(utf8ToBytes(`${documentId}\n${[...heads].sort().join(',')}`)).slice(0, Math.max(BUCKET_HASH_BYTES, ENTRY_HASH_BYTES))
  return { documentId, key: hex(id.subarray(0, KEY_BYTES)), bucket: (id[0] as number) % DIGEST_BUCKETS, hash }
}

/** The bucket hashes of a set of entries. */
export function bucketHashes(entries: Iterable<DigestEntry>): Uint8Array {
  const out = new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES)
  for (const e of entries) {
    const at = e.bucket * BUCKET_HASH_BYTES
    for (let i = 0; i < BUCKET_HASH_BYTES; i++) out[at + i] = (out[at + i] as number) ^ (e.hash[i] as number)
  }
  return out
}

/** Bitmask of the buckets whose hashes differ. */
export function differingBuckets(a: Uint8Array, b: Uint8Array): number {
  let mask = 0
  for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
    const at = bucket * BUCKET_HASH_BYTES
    for (let i = 0; i < BUCKET_HASH_BYTES; i++)
      if (a[at + i] !== b[at + i]) {
        mask |= 1 << bucket
        break
      }
  }
  return mask
}

/** The relay's side of a reply: its entries in the differing buckets, packed. */
export function packEntries(entries: Iterable<DigestEntry>, differ: number): Uint8Array {
  const chosen = [...entries].filter((e) => differ & (1 << e.bucket))
  const out = new Uint8Array(chosen.length * ENTRY_BYTES)
  chosen.forEach((e, n) => {
    out.set(hexToBytes(e.key), n * ENTRY_BYTES)
    out.set(e.hash.subarray(0, ENTRY_HASH_BYTES), n * ENTRY_BYTES + KEY_BYTES)
  })
  return out
}

/** Packs document keys (for `unsaved`). */
export function packKeys(entries: Iterable<DigestEntry>): Uint8Array {
  const list = [...entries]
  const out = new Uint8Array(list.length * KEY_BYTES)
  list.forEach((e, n) => out.set(hexToBytes(e.key), n * KEY_BYTES))
  return out
}

/** Reads packed keys back as hex. */
export function unpackKeys(bytes: Uint8Array = new Uint8Array(0)): Set<string> {
  const keys = new Set<string>()
  for (let at = 0; at + KEY_BYTES <= bytes.byteLength; at += KEY_BYTES) keys.add(hex(bytes.subarray(at, at + KEY_BYTES)))
  return keys
}

/**
 * The client's side: which of its entries the relay holds at the same heads. A document is "same"
 * when its bucket matched, or when the relay listed the same (key, hash) in a differing bucket.
 */
export function compareWithAnswer(ours: readonly DigestEntry[], answer: Pick<DigestAnswer, 'differ' | 'entries'>): { same: DigestEntry[]; differ: DigestEntry[] } {
  const relay = new Set<string>()
  const entries = answer.entries ?? new Uint8Array(0)
  for (let at = 0; at + ENTRY_BYTES <= entries.byteLength; at += ENTRY_BYTES) relay.add(hex(entries.subarray(at, at + ENTRY_BYTES)))
  const same: DigestEntry[] = []
  const differ: DigestEntry[] = []
  for (const e of ours) {
    const matched = !(answer.differ & (1 << e.bucket)) || relay.has(e.key + hex(e.hash.subarray(0, ENTRY_HASH_BYTES)))
    ;(matched ? same : differ).push(e)
  }
  return { same, differ }
}

/** Bytes of a hex string (a digest key, a head). */
export function hexToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16)
  return out
}

const DOCUMENT_ID = /^[1-9A-HJ-NP-Za-km-z]{20,60}$/
const URL_PREFIX = 'automerge:'

/**
 * The documents of a neighbourhood the digest covers: the neighbourhood itself and every member feed
 * its registry lists (entries that are not a well-formed automerge URL are skipped). Conversations and
 * other documents are not covered: they sync as before.
 */
export function coveredDocuments(neighbourhoodId: string, neighbourhood: unknown): string[] {
  const ids = [neighbourhoodId]
  const members = isRecord(neighbourhood) ? neighbourhood.members : undefined
  if (!isRecord(members)) return ids
  for (const entry of Object.values(members)) {
    const feed = isRecord(entry) ? entry.feed : undefined
    if (typeof feed !== 'string' || !feed.startsWith(URL_PREFIX)) continue
    const id = feed.slice(URL_PREFIX.length)
    if (DOCUMENT_ID.test(id) && !ids.includes(id)) ids.push(id)
  }
  return ids
}

/** Whether a document is a neighbourhood (the root of a digest). */
export const isNeighbourhood = (doc: unknown): boolean => isRecord(doc) && doc.type === 'placette/neighbourhood'

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A client's digests, from its join's metadata: undefined if it sent none, an error if malformed. */
export function parseDigestRequests(value: unknown): { ok: true; requests: DigestRequest[] | undefined } | { ok: false; detail: string } {
  if (value === undefined) return { ok: true, requests: undefined }
  if (!Array.isArray(value) || value.length > MAX_DIGESTS) return { ok: false, detail: 'bad digest list' }
  const requests: DigestRequest[] = []
  for (const item of value) {
    if (!isRecord(item)) return { ok: false, detail: 'bad digest' }
    const { neighbourhood, buckets } = item
    if (typeof neighbourhood !== 'string' || !DOCUMENT_ID.test(neighbourhood)) return { ok: false, detail: 'bad digest neighbourhood' }
    if (!(buckets instanceof Uint8Array) || buckets.byteLength !== DIGEST_BUCKETS * BUCKET_HASH_BYTES) return { ok: false, detail: 'bad digest buckets' }
    requests.push({ neighbourhood, buckets })
  }
  return { ok: true, requests }
}

/**
 * The relay's answers, from its `peer` metadata, by position; a malformed one is undefined (that digest
 * then syncs everything).
 */
export function parseDigestAnswers(value: unknown): (DigestAnswer | undefined)[] {
  if (!Array.isArray(value) || value.length > MAX_DIGESTS) return []
  return value.map((item) => (isRecord(item) ? parseAnswer(item) : undefined))
}

function parseAnswer(item: Record<string, unknown>): DigestAnswer | undefined {
  const { differ, entries, unsaved } = item
  if (typeof differ !== 'number' || !Number.isInteger(differ) || differ < 0 || differ >= 2 ** DIGEST_BUCKETS) return undefined
  if (entries !== undefined && !isPacked(entries, ENTRY_BYTES)) return undefined
  if (unsaved !== undefined && !isPacked(unsaved, KEY_BYTES)) return undefined
  return { differ, ...(entries ? { entries } : {}), ...(unsaved ? { unsaved } : {}) }
}

const isPacked = (v: unknown, size: number): v is Uint8Array => v instanceof Uint8Array && v.byteLength % size === 0 && v.byteLength <= MAX_DIGEST_ENTRIES * size
