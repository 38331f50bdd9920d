/**
 * Signalling a device-to-device link through the relay. The messages travel as automerge-repo
 * ephemeral messages on the neighbourhood document: the relay passes each one to every peer of that
 * document (once it authenticates members, only to members of the neighbourhood), so every message says
 * who sends it and, except presence, to whom it is addressed; a device acts only on messages addressed
 * to its own member and device, and drops anything malformed.
 *
 * The conversation: every device says `direct-here` now and then (presence). A asks B (`direct-ask`),
 * B's owner is asked plainly and answers (`direct-reply`); if yes, A sends a WebRTC offer, B an answer,
 * both their ICE candidates (`direct-offer`, `direct-answer`, `direct-ice`). Either side may end the
 * attempt (`direct-end`).
 */
import * as v from 'valibot'
import { ID_PATTERN, type MemberId } from './ids.ts'

/** Devices are named by their automerge-repo peer ID (the `senderId` the relay sees). */
export type DeviceId = string & { readonly __brand: 'DeviceId' }
/** One attempt at a link, chosen at random by the asking device. */
export type LinkId = string & { readonly __brand: 'LinkId' }

/** Longest SDP accepted: a data-channel-only description with a few host candidates is 1–3 KB. */
export const MAX_SDP_LENGTH = 20_000

const memberId = v.pipe(v.string(), v.regex(ID_PATTERN), v.transform((s) => s as MemberId))
const deviceId = v.pipe(v.string(), v.regex(/^[\w.:-]{1,128}$/), v.transform((s) => s as DeviceId))
const linkId = v.pipe(v.string(), v.regex(/^[1-9A-HJ-NP-Za-km-z]{8,32}$/), v.transform((s) => s as LinkId))
const sdp = v.pipe(v.string(), v.startsWith('v=0'), v.maxLength(MAX_SDP_LENGTH))

const from = { v: v.literal(1), from: memberId, fromDevice: deviceId }
const addressed = { ...from, to: memberId, toDevice: deviceId, link: linkId }

const Here = v.object({ type: v.literal('direct-here'), ...from, ask: v.boolean() })
const Ask = v.object({ type: v.literal('direct-ask'), ...addressed })
const Reply = v.object({ type: v.literal('direct-reply'), ...addressed, answer: v.picklist(['yes', 'no', 'busy']) })
const Offer = v.object({ type: v.literal('direct-offer'), ...addressed, sdp })
const Answer = v.object({ type: v.literal('direct-answer'), ...addressed, sdp })
const Ice = v.object({
  type: v.literal('direct-ice'),
  ...addressed,
  candidate: v.object({
    candidate: v.pipe(v.string(), v.maxLength(1000)),
    sdpMid: v.nullable(v.pipe(v.string(), v.maxLength(64))),
    sdpMLineIndex: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(64))),
  }),
})
const End = v.object({ type: v.literal('direct-end'), ...addressed })

const Signal = v.variant('type', [Here, Ask, Reply, Offer, Answer, Ice, End])

export type SignalMessage = v.InferOutput<typeof Signal>
export type HereMessage = v.InferOutput<typeof Here>
export type AddressedMessage = Exclude<SignalMessage, HereMessage>
export type ReplyAnswer = v.InferOutput<typeof Reply>['answer']

/** This device, as signalling messages name it. */
export interface SignalSelf {
  member: MemberId
  device: DeviceId
}

export type SignalVerdict =
  | { ok: true; message: SignalMessage }
  /**
   * `malformed`: not a signalling message of this version; `not-signal`: some other ephemeral message
   * (its `type` does not start with `direct-`); `spoofed`: its `fromDevice` is not the peer that sent
   * it; `own`: sent by this device; `not-for-me`: addressed to another member or device.
   */
  | { ok: false; why: 'malformed' | 'not-signal' | 'spoofed' | 'own' | 'not-for-me' }

/**
 * Checks an ephemeral message received on the neighbourhood document.
 * @param value the decoded ephemeral payload, as received
 * @param senderId the peer ID automerge-repo reports as its sender
 * @param me this device
 */
export function readSignal(value: unknown, senderId: string, me: SignalSelf): SignalVerdict {
  const type = (value as { type?: unknown } | null)?.type
  if (typeof type !== 'string' || !type.startsWith('direct-')) return { ok: false, why: 'not-signal' }
  const parsed = v.safeParse(Signal, value)
  if (!parsed.success) return { ok: false, why: 'malformed' }
  const message = parsed.output
  if (message.fromDevice !== senderId) return { ok: false, why: 'spoofed' }
  if (message.fromDevice === me.device) return { ok: false, why: 'own' }
  if (message.type !== 'direct-here' && (message.to !== me.member || message.toDevice !== me.device)) return { ok: false, why: 'not-for-me' }
  return { ok: true, message }
}

/** A device seen on the relay: which member, which device. */
export interface SignalPeer {
  member: MemberId
  device: DeviceId
}

type Body<T extends AddressedMessage['type']> = Omit<Extract<AddressedMessage, { type: T }>, 'v' | 'type' | 'from' | 'fromDevice' | 'to' | 'toDevice' | 'link'>

/** Builds a message from `me` to `peer` about `link`. */
export function addressTo<T extends AddressedMessage['type']>(type: T, me: SignalSelf, peer: SignalPeer, link: LinkId, body: Body<T>): Extract<AddressedMessage, { type: T }> {
  return { v: 1, type, from: me.member, fromDevice: me.device, to: peer.member, toDevice: peer.device, link, ...body } as Extract<AddressedMessage, { type: T }>
}

export function hereMessage(me: SignalSelf, ask: boolean): HereMessage {
  return { v: 1, type: 'direct-here', from: me.member, fromDevice: me.device, ask }
}
