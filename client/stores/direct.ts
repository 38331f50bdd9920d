import { createEffect, createSignal, on, onCleanup, type Accessor } from 'solid-js'
import type { PlacetteDb, Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'
import type { RelaySignalling } from '../sync/direct-relay.ts'
import type { SessionState } from '../sync/direct-session.ts'
import type { SignalPeer } from '../../shared/direct-signal.ts'

/** A link made through the relay: asked, being made, up, or ended (and why). */
export type RelayLinkState = SessionState
/** Another member's device that is on the relay now. */
export type NearbyDevice = SignalPeer

/** Where a direct (device to device) link stands, for the page that makes one. */
export type DirectState =
  | { step: 'idle' }
  | { step: 'preparing' }
  | { step: 'offering'; code: string }
  | { step: 'answering'; code: string }
  | { step: 'connected'; since: number }
  | { step: 'closed' }
  | { step: 'failed'; reason: 'bad-code' | 'no-webrtc' | 'failed' }

export interface DirectStore {
  state: Accessor<DirectState>
  /** First device: make an offer code to show. */
  offer(): Promise<void>
  /** Second device: answer the first device's code; shows an answer code. */
  answer(offerCode: string): Promise<void>
  /** First device: finish with the second device's answer code. */
  complete(answerCode: string): Promise<void>
  close(): void
  /** Other members whose devices are on the relay now (none while the relay is out of reach). */
  nearby: Accessor<NearbyDevice[]>
  /** The link made through the relay, if any. */
  relayLink: Accessor<RelayLinkState>
  /** Asks a device on the relay to link directly; its owner is asked and answers. */
  askLink(device: NearbyDevice): void
  acceptLink(): void
  declineLink(): void
  /** Stops asking, or ends the link made through the relay. */
  stopLink(): void
}

/**
 * Links two devices directly over WebRTC, so that they keep syncing with each other when the relay
 * or the internet goes away: through the relay while both reach it (no codes to exchange), or with
 * codes shown as QR codes or copied as text, so that neighbours meeting at the market sync with no
 * relay and no internet.
 */
export function createDirectStore(engine: Promise<Runtime>, db: PlacetteDb, profile: Accessor<Profile | undefined>): DirectStore {
  const [state, setState] = createSignal<DirectState>({ step: 'idle' })
  const relay = createRelayLinks(engine, db, profile)
  let pc: RTCPeerConnection | undefined
  let complete: ((answer: string) => Promise<void>) | undefined

  const wire = async (channel: Promise<RTCDataChannel>) => {
    const rt = await engine
    const { attachDataChannel } = await import('../sync/runtime.ts')
    await attachDataChannel(rt, await channel, {
      onPeer: () => {
        const now = Date.now()
        setState({ step: 'connected', since: now })
        void db.settings.put({ key: 'lastDirectSync', value: now })
      },
      onClose: () => setState((s) => (s.step === 'connected' ? { step: 'closed' } : s)),
    })
  }
  const guard = async (run: () => Promise<void>): Promise<void> => {
    if (typeof RTCPeerConnection === 'undefined') {
      setState({ step: 'failed', reason: 'no-webrtc' })
      return
    }
    try {
      await run()
    } catch (e) {
      setState({ step: 'failed', reason: e instanceof Error && /code/.test(e.message) ? 'bad-code' : 'failed' })
    }
  }
  const reset = () => {
    pc?.close()
    pc = undefined
    complete = undefined
  }

  return {
    state,
    offer: () =>
      guard(async () => {
        reset()
        setState({ step: 'preparing' })
        const { startOffer } = await import('../sync/direct-link.ts')
        const link = await startOffer()
        pc = link.pc
        complete = link.complete
        void wire(link.channel)
        setState({ step: 'offering', code: link.code })
      }),
    answer: (offerCode) =>
      guard(async () => {
        reset()
        setState({ step: 'preparing' })
        const { answerOffer } = await import('../sync/direct-link.ts')
        const link = await answerOffer(offerCode)
        pc = link.pc
        void wire(link.channel)
        setState({ step: 'answering', code: link.code })
      }),
    complete: (answerCode) =>
      guard(async () => {
        if (!complete) throw new Error('no offer')
        await complete(answerCode)
      }),
    close() {
      reset()
      setState({ step: 'idle' })
    },
    ...relay,
  }
}

/** Presence and links through the relay, for the current profile, started once the engine is loaded. */
function createRelayLinks(engine: Promise<Runtime>, db: PlacetteDb, profile: Accessor<Profile | undefined>) {
  const [nearby, setNearby] = createSignal<NearbyDevice[]>([])
  const [relayLink, setRelayLink] = createSignal<RelayLinkState>({ step: 'idle' })
  let signalling: RelaySignalling | undefined

  createEffect(
    on(profile, (p) => {
      if (!p || typeof RTCPeerConnection === 'undefined') return
      let stopped = false
      let started: RelaySignalling | undefined
      void (async () => {
        const rt = await engine
        const { startRelaySignalling } = await import('../sync/direct-relay.ts')
        if (stopped) return
        started = await startRelaySignalling(rt, p.id, p.neighbourhood, () => {
          if (!started) return
          setNearby(started.here())
          const link = started.state()
          if (link.step === 'connected' && relayLink().step !== 'connected') void db.settings.put({ key: 'lastDirectSync', value: link.since })
          setRelayLink(link)
        })
        if (stopped) started.close()
        else signalling = started
      })().catch(() => undefined) // no neighbourhood document on this device yet: nobody to find
      onCleanup(() => {
        stopped = true
        started?.close()
        if (signalling === started) signalling = undefined
        setNearby([])
        setRelayLink({ step: 'idle' })
      })
    }),
  )

  return {
    nearby,
    relayLink,
    askLink: (device: NearbyDevice) => signalling?.ask(device),
    acceptLink: () => signalling?.accept(),
    declineLink: () => signalling?.decline(),
    stopLink: () => signalling?.stop(),
  }
}
