/**
 * Checks one inbound WebSocket frame before anything else looks at it. Pure, so every refusal is unit
 * tested without a socket. automerge-repo 2.5.6's own server adapter can throw out of its message
 * handler on a malformed frame and kill the process; here nothing a client sends can throw.
 */
import { cbor, isValidDocumentId } from '@automerge/automerge-repo'
import { CloseCode, parseClientMessage, type FromClientMessage, type PeerIdString } from '../../shared/protocol.ts'
import { Reason } from '../../shared/errors.ts'
import { syncPayloadProblem } from '../../shared/sync-payload.ts'

export type FrameVerdict =
  | { ok: true; message: FromClientMessage }
  | {
      ok: false
      reason: typeof Reason.malformedFrame | typeof Reason.protocolViolation
      code: (typeof CloseCode)['malformed' | 'protocol']
      detail: string
    }

const malformed = (detail: string): FrameVerdict => ({ ok: false, reason: Reason.malformedFrame, code: CloseCode.malformed, detail })
const violation = (detail: string): FrameVerdict => ({ ok: false, reason: Reason.protocolViolation, code: CloseCode.protocol, detail })

/**
 * @param frame the frame's payload, as received
 * @param isBinary false for a text frame (the protocol is CBOR, so never valid)
 * @param joinedAs the peer ID this socket joined as, or undefined before its `join`
 */
export function checkFrame(frame: Uint8Array, isBinary: boolean, joinedAs: PeerIdString | undefined): FrameVerdict {
  if (!isBinary) return malformed('text frame')
  let value: unknown
  try {
    value = cbor.decode(frame)
  } catch {
    return malformed('not CBOR')
  }
  const parsed = parseClientMessage(value)
  // Well-formed CBOR that is not a message of the protocol.
  if (!parsed.ok) return violation(parsed.detail)
  const message = parsed.message

  // A socket speaks for one peer: the one it joined as. Anything else is an impersonation attempt
  // or a confused client, and either way the socket goes.
  if (joinedAs === undefined && message.type !== 'join') return violation(`${message.type} before join`)
  if (joinedAs !== undefined && message.senderId !== joinedAs) return violation('senderId differs from the joined peer')

  if ('documentId' in message && typeof message.documentId === 'string' && !isValidDocumentId(message.documentId))
    return violation('documentId fails its checksum')
  // The repo would hand these bytes to Automerge: a sync message it can take without harm, or nothing.
  const problem = syncPayloadProblem(message)
  if (problem) return malformed(`${message.type} payload ${problem}`)
  if (message.type === 'ephemeral' && message.data) {
    // automerge-repo decodes it as CBOR before passing it on; garbage would only throw inside the repo.
    try {
      cbor.decode(message.data)
    } catch {
      return malformed('ephemeral payload is not CBOR')
    }
  }
  return { ok: true, message }
}
