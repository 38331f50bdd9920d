/**
 * Checks one frame received from an upstream relay before anything else looks at it. Pure, so every
 * refusal is unit tested without a socket. An upstream is another relay, run by someone else: its
 * frames are as untrusted as a client's, and nothing it sends may throw out of the adapter.
 */
import { cbor, isValidDocumentId } from '@automerge/automerge-repo'
import { Reason } from '../../shared/errors.ts'
import { syncPayloadProblem } from '../../shared/sync-payload.ts'
import { CloseCode, parseServerMessage, type DocMessage, type ErrorMessage, type PeerIdString, type PeerMessage } from '../../shared/protocol.ts'

export type UpstreamVerdict =
  | { ok: true; message: PeerMessage | ErrorMessage | DocMessage }
  /** Well-formed but not for this link (presence, heads gossip, a message for another peer): dropped. */
  | { ok: 'ignore'; detail: string }
  | {
      ok: false
      reason: typeof Reason.malformedFrame | typeof Reason.protocolViolation
      code: (typeof CloseCode)['malformed' | 'protocol']
      detail: string
    }

const malformed = (detail: string): UpstreamVerdict => ({ ok: false, reason: Reason.malformedFrame, code: CloseCode.malformed, detail })
const violation = (detail: string): UpstreamVerdict => ({ ok: false, reason: Reason.protocolViolation, code: CloseCode.protocol, detail })

/**
 * @param frame the frame's payload, as received
 * @param isBinary false for a text frame (the protocol is CBOR, so never valid)
 * @param self this relay's peer ID (what the upstream must address)
 * @param upstream the upstream's peer ID from its `peer` message, or undefined before it
 */
export function checkUpstreamFrame(frame: Uint8Array, isBinary: boolean, self: PeerIdString, upstream: PeerIdString | undefined): UpstreamVerdict {
  if (!isBinary) return malformed('text frame')
  let value: unknown
  try {
    value = cbor.decode(frame)
  } catch {
    return malformed('not CBOR')
  }
  const parsed = parseServerMessage(value)
  if (!parsed.ok) return violation(parsed.detail)
  const message = parsed.message
  switch (message.type) {
    case 'peer':
      if (message.targetId !== self) return violation('peer message for another peer')
      if (upstream !== undefined && message.senderId !== upstream) return violation('the upstream changed its peer ID on an open socket')
      if (message.senderId === self) return violation('the upstream is this relay itself')
      return { ok: true, message }
    case 'error':
      return { ok: true, message }
    case 'remote-subscription-change':
    case 'remote-heads-changed':
      return { ok: 'ignore', detail: message.type }
  }
  if (upstream === undefined) return violation(`${message.type} before peer`)
  // Presence is not relayed between relays; and an upstream passes on its clients' presence with
  // their sender IDs, which the repo must not take for the upstream's.
  if (message.type === 'ephemeral') return { ok: 'ignore', detail: 'ephemeral' }
  if (message.senderId !== upstream) return violation('senderId is not the upstream')
  if (message.targetId !== self) return { ok: 'ignore', detail: 'for another peer' }
  if (!isValidDocumentId(message.documentId)) return violation('documentId fails its checksum')
  const problem = syncPayloadProblem(message)
  if (problem) return malformed(`${message.type} payload ${problem}`)
  return { ok: true, message }
}
