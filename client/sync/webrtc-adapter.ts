import { NetworkAdapter, cbor, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { syncPayloadProblem } from '../../shared/sync-payload.ts'
import { PROTOCOL_VERSION, parseClientMessage, type JoinMessage, type PeerIdString } from '../../shared/protocol.ts'
import { Reassembler, splitMessage } from './chunks.ts'

type Channel = Pick<RTCDataChannel, 'readyState' | 'send' | 'close' | 'addEventListener' | 'binaryType' | 'bufferedAmount'> & {
  /** Messages that arrived before this adapter listened (see direct-link.ts `withEarlyBuffer`). */
  takeEarly?: () => unknown[]
}

/**
 * An automerge-repo network adapter over one WebRTC data channel: two devices on the same network
 * sync directly, with no relay and no internet. Both ends speak the relay protocol's messages (each
 * says `join` when the channel opens), chunked to fit the channel, and every inbound message is
 * checked like the relay checks its clients': the other phone is not trusted more than a stranger.
 */
export class DataChannelAdapter extends NetworkAdapter {
  readonly #channel: Channel
  readonly #reassembler = new Reassembler()
  #remotePeerId: PeerId | undefined
  #nextMessage = 1
  #ready = false
  #readyResolve!: () => void
  readonly #readyPromise = new Promise<void>((resolve) => (this.#readyResolve = resolve))
  #closed = false
  readonly #onPeer: (peerId: string) => void
  readonly #onClose: () => void

  constructor(channel: Channel, events: { onPeer?: (peerId: string) => void; onClose?: () => void } = {}) {
    super()
    this.#channel = channel
    this.#onPeer = events.onPeer ?? (() => undefined)
    this.#onClose = events.onClose ?? (() => undefined)
  }

  isReady(): boolean {
    return this.#ready
  }

  whenReady(): Promise<void> {
    return this.#readyPromise
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    const channel = this.#channel
    channel.binaryType = 'arraybuffer'
    channel.addEventListener('message', (event: MessageEvent) => this.#receive(event.data))
    // In the same turn as listening, so nothing is lost and the order is kept.
    for (const data of channel.takeEarly?.() ?? []) this.#receive(data)
    channel.addEventListener('close', () => this.#end())
    if (channel.readyState === 'open') this.#hello()
    else channel.addEventListener('open', () => this.#hello())
    // Never hold the repo up waiting for a phone that may not answer.
    this.#markReady()
  }

  disconnect(): void {
    try {
      this.#channel.close()
    } catch {
      // already closed
    }
    this.#end()
  }

  send(message: Message): void {
    if (this.#channel.readyState !== 'open' || !this.#remotePeerId) return
    if ('data' in message && message.data?.byteLength === 0) return
    this.#write(cbor.encode(message))
  }

  #write(bytes: Uint8Array): void {
    for (const chunk of splitMessage(this.#nextMessage++, bytes)) this.#channel.send(chunk as Uint8Array<ArrayBuffer>)
  }

  #hello(): void {
    const join: JoinMessage = {
      type: 'join',
      senderId: this.peerId as unknown as PeerIdString,
      peerMetadata: this.peerMetadata ?? {},
      supportedProtocolVersions: [PROTOCOL_VERSION],
    }
    this.#write(cbor.encode(join))
  }

  #receive(data: unknown): void {
    let decoded: unknown
    try {
      const frame = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array)
      const whole = this.#reassembler.push(frame)
      if (!whole) return
      decoded = cbor.decode(whole)
    } catch {
      return this.disconnect() // a peer that sends garbage is cut off, as the relay does
    }
    const parsed = parseClientMessage(decoded)
    if (!parsed.ok) return this.disconnect()
    const message = parsed.message
    if (syncPayloadProblem(message)) return this.disconnect()
    if (message.type === 'join') {
      if (this.#remotePeerId) return // already introduced
      this.#remotePeerId = message.senderId as unknown as PeerId
      this.emit('peer-candidate', { peerId: this.#remotePeerId, peerMetadata: message.peerMetadata as PeerMetadata })
      this.#onPeer(message.senderId)
      return
    }
    // Only messages from the peer that introduced itself, addressed to us.
    if ((message.senderId as string) !== (this.#remotePeerId as string | undefined) || message.targetId !== (this.peerId as unknown as string)) return this.disconnect()
    this.emit('message', message as unknown as Message)
  }

  #end(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#remotePeerId) this.emit('peer-disconnected', { peerId: this.#remotePeerId })
    this.emit('close')
    this.#onClose()
  }

  #markReady(): void {
    if (this.#ready) return
    this.#ready = true
    this.#readyResolve()
  }
}
