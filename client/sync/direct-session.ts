/**
 * The conversation that links two devices through the relay, as a pure state machine: events in
 * (the person asks, accepts or stops; a checked signalling message arrives; the channel opens or is
 * lost; time passes), a new state and effects out (messages to send, WebRTC steps to take). The
 * driver (direct-relay.ts) owns the sockets and the peer connection; everything that decides is here,
 * so it is tested without a browser. One link at a time: a device that is busy says so.
 */
import { addressTo, type AddressedMessage, type DeviceId, type LinkId, type SignalPeer, type SignalSelf } from '../../shared/direct-signal.ts'
import type { MemberId } from '../../shared/ids.ts'

/** How long the asking device waits for the other person to answer. */
export const ASK_TIMEOUT_MS = 60_000
/** How long an unanswered question stays on the asked device (a little longer than the asker waits). */
export const ASKED_TIMEOUT_MS = 75_000
/** How long WebRTC may take, once both said yes, before the attempt counts as failed. */
export const LINK_TIMEOUT_MS = 20_000

export type EndReason = 'declined' | 'busy' | 'cancelled' | 'no-answer' | 'failed' | 'closed'

export type SessionState =
  | { step: 'idle' }
  | { step: 'asking'; peer: SignalPeer; link: LinkId; since: number }
  | { step: 'asked'; peer: SignalPeer; link: LinkId; since: number }
  | { step: 'linking'; peer: SignalPeer; link: LinkId; since: number; role: 'offerer' | 'answerer' }
  | { step: 'connected'; peer: SignalPeer; link: LinkId; since: number }
  | { step: 'ended'; peer: SignalPeer; why: EndReason }

export type SessionEvent =
  | { kind: 'ask'; peer: SignalPeer; link: LinkId; now: number }
  | { kind: 'accept'; now: number }
  | { kind: 'decline' }
  /** The person stops whatever is under way. */
  | { kind: 'stop' }
  /** A signalling message, already checked and addressed to this device (shared/direct-signal.ts). */
  | { kind: 'message'; message: AddressedMessage; now: number }
  /** The data channel is open and the other repo introduced itself. */
  | { kind: 'open'; now: number }
  /** The data channel or the peer connection ended. */
  | { kind: 'lost' }
  | { kind: 'tick'; now: number }

export type SessionEffect =
  | { do: 'send'; message: AddressedMessage }
  /** Create the peer connection as the offering side; send the offer and ICE candidates. */
  | { do: 'offer'; peer: SignalPeer; link: LinkId }
  /** Create the peer connection from the other side's offer; send the answer and ICE candidates. */
  | { do: 'answer'; peer: SignalPeer; link: LinkId; sdp: string }
  | { do: 'remote-answer'; sdp: string }
  | { do: 'ice'; candidate: Extract<AddressedMessage, { type: 'direct-ice' }>['candidate'] }
  /** Close the peer connection, if any. */
  | { do: 'close' }

export interface Step {
  state: SessionState
  effects: SessionEffect[]
}

const samePeer = (a: SignalPeer, b: SignalPeer) => a.member === b.member && a.device === b.device
const senderOf = (m: AddressedMessage): SignalPeer => ({ member: m.from, device: m.fromDevice })
const stay = (state: SessionState): Step => ({ state, effects: [] })
const isFree = (s: SessionState) => s.step === 'idle' || s.step === 'ended'

/** Advances the conversation by one event. Never throws; an event that does not fit is ignored. */
export function step(me: SignalSelf, state: SessionState, event: SessionEvent): Step {
  switch (event.kind) {
    case 'ask':
      if (!isFree(state) || samePeer(event.peer, me)) return stay(state)
      return {
        state: { step: 'asking', peer: event.peer, link: event.link, since: event.now },
        effects: [{ do: 'send', message: addressTo('direct-ask', me, event.peer, event.link, {}) }],
      }
    case 'accept':
      if (state.step !== 'asked') return stay(state)
      return {
        state: { step: 'linking', peer: state.peer, link: state.link, since: event.now, role: 'answerer' },
        effects: [{ do: 'send', message: addressTo('direct-reply', me, state.peer, state.link, { answer: 'yes' }) }],
      }
    case 'decline':
      if (state.step !== 'asked') return stay(state)
      return { state: { step: 'idle' }, effects: [{ do: 'send', message: addressTo('direct-reply', me, state.peer, state.link, { answer: 'no' }) }] }
    case 'stop':
      if (state.step === 'asked') return step(me, state, { kind: 'decline' })
      if (state.step === 'idle' || state.step === 'ended') return { state: { step: 'idle' }, effects: [] }
      return { state: { step: 'idle' }, effects: [{ do: 'send', message: addressTo('direct-end', me, state.peer, state.link, {}) }, { do: 'close' }] }
    case 'open':
      if (state.step !== 'linking') return stay(state)
      return stay({ step: 'connected', peer: state.peer, link: state.link, since: event.now })
    case 'lost':
      if (state.step === 'linking') return { state: { step: 'ended', peer: state.peer, why: 'failed' }, effects: [{ do: 'close' }] }
      if (state.step === 'connected') return { state: { step: 'ended', peer: state.peer, why: 'closed' }, effects: [{ do: 'close' }] }
      return stay(state)
    case 'tick':
      return onTick(me, state, event.now)
    case 'message':
      return onMessage(me, state, event.message, event.now)
  }
}

function onTick(me: SignalSelf, state: SessionState, now: number): Step {
  if (state.step === 'asking' && now - state.since > ASK_TIMEOUT_MS)
    return { state: { step: 'ended', peer: state.peer, why: 'no-answer' }, effects: [{ do: 'send', message: addressTo('direct-end', me, state.peer, state.link, {}) }] }
  if (state.step === 'asked' && now - state.since > ASKED_TIMEOUT_MS) return stay({ step: 'idle' })
  if (state.step === 'linking' && now - state.since > LINK_TIMEOUT_MS)
    return {
      state: { step: 'ended', peer: state.peer, why: 'failed' },
      effects: [{ do: 'send', message: addressTo('direct-end', me, state.peer, state.link, {}) }, { do: 'close' }],
    }
  return stay(state)
}

function onMessage(me: SignalSelf, state: SessionState, message: AddressedMessage, now: number): Step {
  const from = senderOf(message)
  if (message.type === 'direct-ask') {
    if (isFree(state)) return stay({ step: 'asked', peer: from, link: message.link, since: now })
    if (state.link === message.link) return stay(state) // the same question again
    // Both asked each other at once: the question with the smaller link ID goes ahead on both sides.
    if (state.step === 'asking' && samePeer(state.peer, from)) {
      if (message.link > state.link) return stay(state)
      return {
        state: { step: 'linking', peer: from, link: message.link, since: now, role: 'answerer' },
        effects: [{ do: 'send', message: addressTo('direct-reply', me, from, message.link, { answer: 'yes' }) }],
      }
    }
    return { state, effects: [{ do: 'send', message: addressTo('direct-reply', me, from, message.link, { answer: 'busy' }) }] }
  }
  // Everything else belongs to the current attempt, from the device it is with, or is ignored.
  if (isFree(state) || state.link !== message.link || !samePeer(state.peer, from)) return stay(state)

  switch (message.type) {
    case 'direct-reply':
      if (state.step !== 'asking') return stay(state)
      if (message.answer === 'yes')
        return { state: { step: 'linking', peer: state.peer, link: state.link, since: now, role: 'offerer' }, effects: [{ do: 'offer', peer: state.peer, link: state.link }] }
      return stay({ step: 'ended', peer: state.peer, why: message.answer === 'busy' ? 'busy' : 'declined' })
    case 'direct-offer':
      if (state.step !== 'linking' || state.role !== 'answerer') return stay(state)
      return { state, effects: [{ do: 'answer', peer: state.peer, link: state.link, sdp: message.sdp }] }
    case 'direct-answer':
      if (state.step !== 'linking' || state.role !== 'offerer') return stay(state)
      return { state, effects: [{ do: 'remote-answer', sdp: message.sdp }] }
    case 'direct-ice':
      if (state.step !== 'linking' && state.step !== 'connected') return stay(state)
      return { state, effects: [{ do: 'ice', candidate: message.candidate }] }
    case 'direct-end': {
      const why: EndReason = state.step === 'asked' ? 'cancelled' : state.step === 'asking' ? 'declined' : state.step === 'connected' ? 'closed' : 'failed'
      return { state: { step: 'ended', peer: state.peer, why }, effects: state.step === 'linking' || state.step === 'connected' ? [{ do: 'close' }] : [] }
    }
  }
}

/** How often a device says it is here, and how long it counts as here after it last did. */
export const PRESENCE_EVERY_MS = 15_000
export const PRESENCE_TTL_MS = 40_000

/**
 * The devices recently heard on the relay, by member: the list "Voisins connectés en ce moment".
 * A member with several devices (or tabs) appears once, with the device heard last.
 */
export class PresenceBook {
  readonly #seen = new Map<DeviceId, { peer: SignalPeer; at: number }>()

  /** Records a device; returns true when it was not counted as here before. */
  see(peer: SignalPeer, now: number): boolean {
    const before = this.#seen.get(peer.device)
    this.#seen.set(peer.device, { peer, at: now })
    return !before || now - before.at > PRESENCE_TTL_MS
  }

  forget(device: DeviceId): void {
    this.#seen.delete(device)
  }

  clear(): void {
    this.#seen.clear()
  }

  /** The members here now (other than `me`), each with its most recently heard device. */
  here(now: number, me: MemberId): SignalPeer[] {
    const byMember = new Map<MemberId, { peer: SignalPeer; at: number }>()
    for (const [device, entry] of this.#seen) {
      if (now - entry.at > PRESENCE_TTL_MS) {
        this.#seen.delete(device)
        continue
      }
      if (entry.peer.member === me) continue
      const known = byMember.get(entry.peer.member)
      if (!known || entry.at > known.at) byMember.set(entry.peer.member, entry)
    }
    return [...byMember.values()].map((e) => e.peer)
  }
}
