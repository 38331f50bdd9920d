/**
 * The relay protocol, imported by both ends. It is automerge-repo's WebSocket protocol (version "1")
 * so a stock automerge-repo client can talk to the relay, with every inbound message checked here
 * before it reaches a repo. Frames are CBOR; the check runs on the decoded value.
 */
import { Reason } from './errors.ts'
import { parseDigestRequests } from './heads-digest.ts'

export const PROTOCOL_VERSION = '1'
/** The WebSocket path on the relay's HTTP port. */
export const SYNC_PATH = '/sync'
/** Largest frame the relay accepts; larger ones close the sender's socket (ws closes with 1009). */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024

/**
 * Milliseconds a changed document waits before its sync messages go out (automerge-repo's
 * `syncDebounceRate`, hard-coded to 100 in 2.5.6 and made an option by patches/). 100 ms made every
 * change typed within 100 ms of the last sync wait out the window, once on the phone and again on the
 * relay (back-to-back latency p50 101 ms, BENCHMARKS.md); 5 ms still gathers a burst of edits into one
 * message.
 */
export const SYNC_DEBOUNCE_MS = 5

/** Close codes the relay uses, so clients and logs can tell why a socket ended. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooLarge: 1009,
  malformed: 4400,
  protocol: 4401,
  /** Sign-in missing, forged or stale, or a page from another site: the reason says which. */
  unauthorized: 4403,
  /** Signed in, but not let in: revoked, gone, invitation expired or used up, or a forbidden write. */
  forbidden: 4404,
  internal: 4500,
  /** The relay is saturated and takes no new socket for now; the reason says when to come back ({@link busyReason}). */
  busy: 4503,
} as const

/** The close reason of {@link CloseCode.busy}: `busy, retry in 30 s`. */
export const busyReason = (retryAfterSeconds: number): string => `busy, retry in ${Math.round(retryAfterSeconds)} s`

/** Seconds a busy relay asked to wait (from {@link busyReason}), clamped to 1 s–10 min; 30 if the reason does not say. */
export function retryAfterSeconds(reason: string): number {
  const seconds = Number(/^busy, retry in (\d{1,6}) s$/.exec(reason)?.[1] ?? 30)
  return Math.min(600, Math.max(1, seconds))
}

export type PeerIdString = string & { readonly __brand: 'PeerId' }

export interface PeerMetadataWire {
  storageId?: string
  isEphemeral?: boolean
  /** Placette extensions the sender speaks (e.g. persisted-heads.ts); ignored by stock automerge-repo. */
  placetteFeatures?: string[]
  /** Join: the client's heads digests; peer: the relay's answers (heads-digest.ts). */
  placetteDigest?: unknown[]
  /** Peer, to a signed-in member: a challenge to sign at its next connection instead of fetching one (relay-auth.ts). */
  placetteTicket?: string
}

export interface JoinMessage {
  type: 'join'
  senderId: PeerIdString
  peerMetadata: PeerMetadataWire
  supportedProtocolVersions: string[]
}

export interface PeerMessage {
  type: 'peer'
  senderId: PeerIdString
  peerMetadata: PeerMetadataWire
  selectedProtocolVersion: string
  targetId: PeerIdString
}

export interface ErrorMessage {
  type: 'error'
  senderId: PeerIdString
  message: string
  targetId: PeerIdString
}

/** The document messages of automerge-repo that a relay forwards to its repo. */
export type DocMessageType = 'sync' | 'request' | 'doc-unavailable' | 'ephemeral'
export const DOC_MESSAGE_TYPES: readonly DocMessageType[] = ['sync', 'request', 'doc-unavailable', 'ephemeral']

export interface DocMessage {
  type: DocMessageType
  senderId: PeerIdString
  targetId: PeerIdString
  documentId: string
  data?: Uint8Array
  count?: number
  sessionId?: string
}

export interface RemoteSubscriptionMessage {
  type: 'remote-subscription-change' | 'remote-heads-changed'
  senderId: PeerIdString
  targetId: PeerIdString
  [key: string]: unknown
}

export type FromClientMessage = JoinMessage | DocMessage | RemoteSubscriptionMessage
export type FromServerMessage = PeerMessage | ErrorMessage | DocMessage | RemoteSubscriptionMessage

export type Parsed<T> = { ok: true; message: T } | { ok: false; reason: Reason; detail: string }

const PEER_ID = /^[\w.:-]{1,128}$/
const DOCUMENT_ID = /^[1-9A-HJ-NP-Za-km-z]{20,60}$/

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isPeerId = (v: unknown): v is PeerIdString => typeof v === 'string' && PEER_ID.test(v)
const bad = (detail: string): Parsed<never> => ({ ok: false, reason: Reason.protocolViolation, detail })

function checkMetadata(meta: unknown): meta is PeerMetadataWire {
  if (meta === undefined) return true
  if (!isRecord(meta)) return false
  if (meta.storageId !== undefined && !(typeof meta.storageId === 'string' && meta.storageId.length <= 128)) return false
  if (meta.isEphemeral !== undefined && typeof meta.isEphemeral !== 'boolean') return false
  return true
}

/** Checks a decoded frame sent by a client. Anything not in the protocol is refused. */
export function parseClientMessage(value: unknown): Parsed<FromClientMessage> {
  if (!isRecord(value)) return bad('not a map')
  if (!isPeerId(value.senderId)) return bad('bad senderId')
  switch (value.type) {
    case 'join': {
      if (!checkMetadata(value.peerMetadata)) return bad('bad peerMetadata')
      const digests = parseDigestRequests((value.peerMetadata as PeerMetadataWire | undefined)?.placetteDigest)
      if (!digests.ok) return bad(digests.detail)
      const versions = value.supportedProtocolVersions
      if (versions !== undefined && !(Array.isArray(versions) && versions.every((x) => typeof x === 'string')))
        return bad('bad supportedProtocolVersions')
      return {
        ok: true,
        message: {
          type: 'join',
          senderId: value.senderId,
          peerMetadata: (value.peerMetadata as PeerMetadataWire | undefined) ?? {},
          supportedProtocolVersions: (versions as string[] | undefined) ?? [PROTOCOL_VERSION],
        },
      }
    }
    case 'sync':
    case 'request':
    case 'doc-unavailable':
    case 'ephemeral': {
      if (!isPeerId(value.targetId)) return bad('bad targetId')
      if (typeof value.documentId !== 'string' || !DOCUMENT_ID.test(value.documentId)) return bad('bad documentId')
      if (value.type !== 'doc-unavailable' && !(value.data instanceof Uint8Array)) return bad('missing data')
      if (value.data !== undefined && !(value.data instanceof Uint8Array)) return bad('bad data')
      return { ok: true, message: value as unknown as DocMessage }
    }
    case 'remote-subscription-change':
    case 'remote-heads-changed':
      if (!isPeerId(value.targetId)) return bad('bad targetId')
      return { ok: true, message: value as unknown as RemoteSubscriptionMessage }
    default:
      return bad(`unknown type ${String(value.type).slice(0, 40)}`)
  }
}

/** Checks a decoded frame sent by the relay (the client trusts the relay no more than it must). */
export function parseServerMessage(value: unknown): Parsed<FromServerMessage> {
  if (!isRecord(value)) return bad('not a map')
  if (value.type === 'peer') {
    if (!isPeerId(value.senderId) || !isPeerId(value.targetId)) return bad('bad peer ids')
    if (!checkMetadata(value.peerMetadata)) return bad('bad peerMetadata')
    return { ok: true, message: value as unknown as PeerMessage }
  }
  if (value.type === 'error') {
    return {
      ok: true,
      message: { ...(value as unknown as ErrorMessage), message: String(value.message ?? '').slice(0, 500) },
    }
  }
  const asClient = parseClientMessage(value)
  if (!asClient.ok) return asClient
  if (asClient.message.type === 'join') return bad('join from server')
  return asClient as Parsed<FromServerMessage>
}

export const selectProtocolVersion = (versions: readonly string[]): string | undefined =>
  versions.includes(PROTOCOL_VERSION) ? PROTOCOL_VERSION : undefined
