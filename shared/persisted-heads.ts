/**
 * "Acknowledged", on the wire: the relay tells a Placette client which heads of a document it has
 * durably written (file written, fsynced and renamed), so the client counts a change as synced only
 * once it would survive the relay being killed. automerge-repo's own sync messages say what the relay
 * holds in memory, which a crash loses.
 *
 * A Placette extension of automerge-repo's WebSocket protocol (protocol.ts): a client announces it in
 * its join's `peerMetadata.placetteFeatures`, the relay announces it in its `peer` answer, and the
 * relay sends the message only to clients that announced it, so stock automerge-repo clients (and
 * relays peering as clients) never see it.
 */
import { Reason } from './errors.ts'
import type { Parsed, PeerIdString } from './protocol.ts'

/** The feature name carried in `peerMetadata.placetteFeatures` by both ends. */
export const PERSISTED_HEADS_FEATURE = 'persisted-heads'
export const PERSISTED_HEADS_TYPE = 'placette-persisted-heads'
/** A document has few heads (one per concurrent writer); more than this is not a message of ours. */
export const MAX_PERSISTED_HEADS = 256

/** Relay → client: every change up to `heads` of `documentId` is on the relay's disk. */
export interface PersistedHeadsMessage {
  type: typeof PERSISTED_HEADS_TYPE
  senderId: PeerIdString
  targetId: PeerIdString
  /** automerge-repo document ID (base58check). */
  documentId: string
  /** Automerge change hashes (hex). */
  heads: string[]
}

const PEER_ID = /^[\w.:-]{1,128}$/
const DOCUMENT_ID = /^[1-9A-HJ-NP-Za-km-z]{20,60}$/
const HEAD = /^[0-9a-f]{64}$/

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * True if a peer's metadata (from its join, or the relay's `peer` answer) announces `feature`.
 * Lenient: a malformed list only means the feature is not announced.
 */
export function announcesFeature(peerMetadata: unknown, feature: string): boolean {
  if (!isRecord(peerMetadata)) return false
  const features = peerMetadata.placetteFeatures
  return Array.isArray(features) && features.length <= 32 && features.includes(feature)
}

/** True if a decoded frame claims to be a persisted-heads message (then check it with {@link parsePersistedHeads}). */
export const isPersistedHeadsFrame = (value: unknown): boolean => isRecord(value) && value.type === PERSISTED_HEADS_TYPE

/** Checks a decoded persisted-heads message from the relay. */
export function parsePersistedHeads(value: unknown): Parsed<PersistedHeadsMessage> {
  const bad = (detail: string): Parsed<never> => ({ ok: false, reason: Reason.protocolViolation, detail })
  if (!isRecord(value) || value.type !== PERSISTED_HEADS_TYPE) return bad('not a persisted-heads message')
  const { senderId, targetId, documentId, heads } = value
  if (typeof senderId !== 'string' || !PEER_ID.test(senderId)) return bad('bad senderId')
  if (typeof targetId !== 'string' || !PEER_ID.test(targetId)) return bad('bad targetId')
  if (typeof documentId !== 'string' || !DOCUMENT_ID.test(documentId)) return bad('bad documentId')
  if (!Array.isArray(heads) || heads.length > MAX_PERSISTED_HEADS || !heads.every((h) => typeof h === 'string' && HEAD.test(h)))
    return bad('bad heads')
  return {
    ok: true,
    message: { type: PERSISTED_HEADS_TYPE, senderId: senderId as PeerIdString, targetId: targetId as PeerIdString, documentId, heads: [...heads] as string[] },
  }
}
