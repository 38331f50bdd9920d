import { createSignal, type Accessor } from 'solid-js'
import type { PlacetteDb } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'

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
}

/**
 * Links two devices directly over WebRTC, with codes shown as QR codes or copied as text, so that
 * neighbours meeting at the market sync with no relay and no internet.
 */
export function createDirectStore(engine: Promise<Runtime>, db: PlacetteDb): DirectStore {
  const [state, setState] = createSignal<DirectState>({ step: 'idle' })
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
  }
}
