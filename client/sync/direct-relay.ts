/**
 * Device to device, signalled through the relay: while both devices reach the relay, they find each
 * other and exchange the WebRTC offer, answer and ICE candidates as ephemeral messages on the
 * neighbourhood document (automerge-repo passes them on to the document's other peers, and the relay
 * does the same). Once the data channel is open it is one more way to sync (runtime.ts
 * `attachDataChannel`), and it keeps working when the relay or the internet goes away.
 *
 * The decisions are in direct-session.ts (pure); this file owns the handle, the timers and the peer
 * connection. No STUN or TURN servers: the link is for devices on the same network.
 */
import type { DocHandle } from '@automerge/automerge-repo'
import { hereMessage, readSignal, type DeviceId, type LinkId, type SignalMessage, type SignalPeer, type SignalSelf } from '../../shared/direct-signal.ts'
import { randomId, type DocUrl, type MemberId } from '../../shared/ids.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { withEarlyBuffer } from './direct-link.ts'
import { PRESENCE_EVERY_MS, PresenceBook, step, type SessionEffect, type SessionEvent, type SessionState } from './direct-session.ts'
import { attachDataChannel, type Runtime } from './runtime.ts'

/** Checks timeouts and who went quiet this often. */
const TICK_MS = 1000
/** Says "here" again shortly after the relay comes back: the first may reach it before it knows us. */
const HELLO_AGAIN_MS = 1500

export interface RelaySignalling {
  /** Other members whose devices were heard on the relay lately. */
  here(): SignalPeer[]
  state(): SessionState
  ask(peer: SignalPeer): void
  accept(): void
  decline(): void
  /** Stops what is under way: the question, the attempt or the link. */
  stop(): void
  /** Leaves: ends any link and stops listening. */
  close(): void
}

/**
 * Starts saying "here" on the neighbourhood document and listening for other devices.
 * @param onChange called whenever `here()` or `state()` may have changed
 */
export async function startRelaySignalling(rt: Runtime, member: MemberId, neighbourhood: DocUrl, onChange: () => void): Promise<RelaySignalling> {
  const handle: DocHandle<NeighbourhoodDoc> = await rt.repo.find<NeighbourhoodDoc>(neighbourhood as Parameters<typeof rt.repo.find>[0])
  const me: SignalSelf = { member, device: rt.repo.peerId as unknown as DeviceId }
  const presence = new PresenceBook()
  let state: SessionState = { step: 'idle' }
  let here: SignalPeer[] = []
  let pc: RTCPeerConnection | undefined
  let pendingIce: RTCIceCandidateInit[] = []
  let effects = Promise.resolve()

  const broadcast = (message: SignalMessage) => handle.broadcast(message)
  const isMember = (id: MemberId) => !!handle.doc()?.members?.[id]
  const linkOf = (s: SessionState) => ('link' in s ? s.link : undefined)

  const refresh = () => {
    const next = presence.here(Date.now(), member)
    const changed = next.length !== here.length || next.some((p, i) => p.device !== here[i]?.device)
    here = next
    if (changed) onChange()
  }

  const dispatch = (event: SessionEvent) => {
    const next = step(me, state, event)
    const changed = next.state !== state
    state = next.state
    for (const effect of next.effects) effects = effects.then(() => run(effect)).catch(() => dispatch({ kind: 'lost' }))
    if (changed) onChange()
  }

  const wire = (channel: RTCDataChannel, link: LinkId) => {
    const current = () => linkOf(state) === link
    void attachDataChannel(rt, channel, {
      onPeer: () => current() && dispatch({ kind: 'open', now: Date.now() }),
      onClose: () => current() && dispatch({ kind: 'lost' }),
    })
  }

  const newConnection = (peer: SignalPeer, link: LinkId): RTCPeerConnection => {
    pc?.close()
    pendingIce = []
    const conn = new RTCPeerConnection({ iceServers: [] })
    conn.addEventListener('icecandidate', (e) => {
      if (!e.candidate || linkOf(state) !== link) return
      const { candidate, sdpMid, sdpMLineIndex } = e.candidate
      broadcast({ v: 1, type: 'direct-ice', from: me.member, fromDevice: me.device, to: peer.member, toDevice: peer.device, link, candidate: { candidate, sdpMid: sdpMid ?? null, sdpMLineIndex: sdpMLineIndex ?? null } })
    })
    conn.addEventListener('connectionstatechange', () => {
      if (conn === pc && conn.connectionState === 'failed') dispatch({ kind: 'lost' })
    })
    pc = conn
    return conn
  }

  const flushIce = async (conn: RTCPeerConnection) => {
    for (const candidate of pendingIce.splice(0)) await conn.addIceCandidate(candidate)
  }

  async function run(effect: SessionEffect): Promise<void> {
    switch (effect.do) {
      case 'send':
        broadcast(effect.message)
        return
      case 'offer': {
        const conn = newConnection(effect.peer, effect.link)
        wire(withEarlyBuffer(conn.createDataChannel('placette', { ordered: true })), effect.link)
        await conn.setLocalDescription(await conn.createOffer())
        broadcast({ v: 1, type: 'direct-offer', from: me.member, fromDevice: me.device, to: effect.peer.member, toDevice: effect.peer.device, link: effect.link, sdp: conn.localDescription!.sdp })
        return
      }
      case 'answer': {
        const conn = newConnection(effect.peer, effect.link)
        conn.addEventListener('datachannel', (e) => wire(withEarlyBuffer(e.channel), effect.link), { once: true })
        await conn.setRemoteDescription({ type: 'offer', sdp: effect.sdp })
        await flushIce(conn)
        await conn.setLocalDescription(await conn.createAnswer())
        broadcast({ v: 1, type: 'direct-answer', from: me.member, fromDevice: me.device, to: effect.peer.member, toDevice: effect.peer.device, link: effect.link, sdp: conn.localDescription!.sdp })
        return
      }
      case 'remote-answer':
        if (!pc) return
        await pc.setRemoteDescription({ type: 'answer', sdp: effect.sdp })
        await flushIce(pc)
        return
      case 'ice':
        if (pc?.remoteDescription) await pc.addIceCandidate(effect.candidate)
        else pendingIce.push(effect.candidate)
        return
      case 'close':
        pc?.close()
        pc = undefined
        pendingIce = []
        return
    }
  }

  const onEphemeral = ({ senderId, message }: { senderId: string; message: unknown }) => {
    const verdict = readSignal(message, senderId, me)
    if (!verdict.ok || !isMember(verdict.message.from)) return
    const m = verdict.message
    if (m.type === 'direct-here') {
      const peer = { member: m.from, device: m.fromDevice }
      presence.see(peer, Date.now())
      if (m.ask) broadcast(hereMessage(me, false))
      refresh()
      return
    }
    // Whoever signals is present too.
    presence.see({ member: m.from, device: m.fromDevice }, Date.now())
    dispatch({ kind: 'message', message: m, now: Date.now() })
  }
  handle.on('ephemeral-message', onEphemeral)
  // Ephemeral messages reach only the peers syncing the document: keep it syncing with the relay even
  // on a connection where nothing changed.
  const stopSyncing = rt.keepSyncing(handle.documentId)

  let helloAgain: ReturnType<typeof setTimeout> | undefined
  const stopWatchingRelay = rt.relay.onConnection((c) => {
    if (c.state !== 'open') {
      presence.clear()
      refresh()
      return
    }
    broadcast(hereMessage(me, true))
    clearTimeout(helloAgain)
    helloAgain = setTimeout(() => broadcast(hereMessage(me, true)), HELLO_AGAIN_MS)
  })
  const heartbeat = setInterval(() => broadcast(hereMessage(me, false)), PRESENCE_EVERY_MS)
  const ticker = setInterval(() => {
    dispatch({ kind: 'tick', now: Date.now() })
    refresh()
  }, TICK_MS)

  return {
    here: () => here,
    state: () => state,
    ask: (peer) => dispatch({ kind: 'ask', peer, link: randomId(16) as LinkId, now: Date.now() }),
    accept: () => dispatch({ kind: 'accept', now: Date.now() }),
    decline: () => dispatch({ kind: 'decline' }),
    stop: () => dispatch({ kind: 'stop' }),
    close() {
      dispatch({ kind: 'stop' })
      handle.off('ephemeral-message', onEphemeral)
      stopSyncing()
      stopWatchingRelay()
      clearTimeout(helloAgain)
      clearInterval(heartbeat)
      clearInterval(ticker)
    },
  }
}
