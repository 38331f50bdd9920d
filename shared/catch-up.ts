/**
 * Catch-up bundles (issue #6): the relay's answer to a heads digest (heads-digest.ts) carries, for the
 * documents it knows a returning client lacks changes of, those changes themselves, so that the
 * client is up to date when the `peer` answer arrives: one round trip, and none of automerge-repo's
 * per-document sync exchange (heads, Bloom filters, one message each way per document).
 *
 * Per document the relay sends `A.saveSince(doc, heads it last shared with the client)` (its sync
 * state with the client's storage ID says which) and its own heads; the client applies it with
 * `A.loadIncremental` and, if it then holds exactly the relay's heads, holds the document's sync back
 * as for a document the digest found the same. Otherwise (it has changes of its own, or the bundle
 * was short of a dependency) the document syncs as before: nothing is lost, only bytes.
 *
 * Negotiated: the client announces {@link CATCH_UP_FEATURE} in its join's `placetteFeatures`; a relay
 * sends bundles only to clients that did, and a client that hears none (a stock server, an older
 * relay) syncs as before. Where it rides: `peerMetadata.placetteDigest[n].catchUp` in the relay's
 * `peer` message, one list per digest answer.
 *
 * Pure: no automerge-repo at run time.
 */
import { hex, hexToBytes, KEY_BYTES } from './heads-digest.ts'

/** The feature name carried in `peerMetadata.placetteFeatures` by both ends. */
export const CATCH_UP_FEATURE = 'catch-up'
/** Bytes of an Automerge change hash (a head). */
export const HEAD_BYTES = 32
/** A document has few heads (one per concurrent writer); more than this is not a bundle of ours. */
export const MAX_CATCH_UP_HEADS = 64
/**
 * Largest total of changes one answer carries; the relay leaves out the documents past it (they sync
 * as before). Well under the 8 MiB frame cap (protocol.ts MAX_FRAME_BYTES), so a long absence does
 * not make one frame that a phone must hold whole.
 */
export const MAX_CATCH_UP_BYTES = 4 * 1024 * 1024

/** One document brought up to date. */
export interface CatchUpDocument {
  /** The document's digest key ({@link KEY_BYTES} bytes; heads-digest.ts `digestEntry(...).key`). */
  key: Uint8Array
  /** The relay's heads of the document, {@link HEAD_BYTES} bytes each. */
  heads: Uint8Array
  /** `A.saveSince(doc, the heads the relay last shared with the client)`: Automerge change chunks. */
  changes: Uint8Array
}

/** Why a bundle was refused (the client then syncs those documents as before). */
export type CatchUpCheck = { ok: true; documents: CatchUpDocument[] } | { ok: false; detail: string }

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Checks the `catchUp` list of one digest answer. Absent is an empty list; anything malformed refuses
 * the whole list, with a detail for the log (a relay that sends garbage for one document is not
 * trusted for the others).
 */
export function parseCatchUp(value: unknown): CatchUpCheck {
  if (value === undefined) return { ok: true, documents: [] }
  if (!Array.isArray(value)) return { ok: false, detail: 'catch-up is not a list' }
  const documents: CatchUpDocument[] = []
  const keys = new Set<string>()
  let total = 0
  for (const item of value) {
    if (!isRecord(item)) return { ok: false, detail: 'catch-up entry is not a map' }
    const { key, heads, changes } = item
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) return { ok: false, detail: 'bad catch-up key' }
    if (!(heads instanceof Uint8Array) || heads.byteLength === 0 || heads.byteLength % HEAD_BYTES !== 0 || heads.byteLength > MAX_CATCH_UP_HEADS * HEAD_BYTES)
      return { ok: false, detail: 'bad catch-up heads' }
    if (!(changes instanceof Uint8Array) || changes.byteLength === 0) return { ok: false, detail: 'bad catch-up changes' }
    total += changes.byteLength
    if (total > MAX_CATCH_UP_BYTES) return { ok: false, detail: 'catch-up too large' }
    const name = hex(key)
    if (keys.has(name)) return { ok: false, detail: 'catch-up names a document twice' }
    keys.add(name)
    documents.push({ key, heads, changes })
  }
  return { ok: true, documents }
}

/** Packs heads (hex) for a {@link CatchUpDocument}. */
export function packHeads(heads: readonly string[]): Uint8Array {
  const out = new Uint8Array(heads.length * HEAD_BYTES)
  heads.forEach((h, n) => out.set(hexToBytes(h), n * HEAD_BYTES))
  return out
}

/** Reads packed heads back as hex (Automerge's form). */
export function unpackHeads(bytes: Uint8Array): string[] {
  const heads: string[] = []
  for (let at = 0; at + HEAD_BYTES <= bytes.byteLength; at += HEAD_BYTES) heads.push(hex(bytes.subarray(at, at + HEAD_BYTES)))
  return heads
}
