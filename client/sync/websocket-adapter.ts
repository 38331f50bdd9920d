import { NetworkAdapter, cbor, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import {
  CloseCode,
  PROTOCOL_VERSION,
  parseServerMessage,
  retryAfterSeconds,
  type JoinMessage,
  type PeerIdString,
} from '../../shared/protocol.ts'
import { syncPayloadProblem } from '../../shared/sync-payload.ts'
import { announcesFeature, isPersistedHeadsFrame, parsePersistedHeads, PERSISTED_HEADS_FEATURE } from '../../shared/persisted-heads.ts'
import type { DigestRequest } from '../../shared/heads-digest.ts'
import { CATCH_UP_FEATURE } from '../../shared/catch-up.ts'

/** Where the connection to the relay stands, for the status bar. */
export type RelayConnection =
  | { state: 'offline' } // the device says it has no network
  | { state: 'connecting'; attempt: number }
  | { state: 'unreachable'; attempt: number } // the device thinks it is online, but the relay did not answer
  | {
      state: 'open'
      relayPeerId: string
      relayStorageId: string | undefined
      since: number
      /** The relay reports the heads it has written to disk (shared/persisted-heads.ts). */
      persistedHeads: boolean
    }
  | { state: 'refused'; message: string; code?: number } // the relay refused us (sign-in, revoked, protocol)
  | { state: 'busy'; retryAt: number } // the relay is saturated and asked us to come back later (shared/protocol.ts CloseCode.busy)
  | { state: 'signed-out' } // nobody to sign in as yet: no profile and no invitation on this device

/** Retry delays in ms; the last one repeats. Short first: a village's network comes and goes. */
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000, 15000]

/** Receives a document ID (automerge-repo's, without `automerge:`) and the heads (hex) the relay wrote. */
export type PersistedHeadsListener = (documentId: string, heads: string[], via: 'message' | 'digest') => void

type WebSocketLike = Pick<WebSocket, 'readyState' | 'send' | 'close' | 'addEventListener' | 'binaryType'>
type WebSocketCtor = new (url: string) => WebSocketLike

export interface RelayAdapterOptions {
  url: string
  /** Defaults to the platform's WebSocket; Node tests pass the `ws` package's. */
  WebSocket?: WebSocketCtor
  /** Where `online`/`offline`/`visibilitychange` come from; defaults to `window` when there is one. */
  events?: Pick<Window, 'addEventListener' | 'removeEventListener'> & { navigator?: { onLine: boolean } }
  /**
   * The URL to open for one connection, signed in (shared/relay-auth.ts signedSyncUrl), or undefined
   * when the device has nobody to sign in as. Without it the adapter connects unsigned (open relays).
   */
  signIn?: (url: string, peerId: string, ticket?: string) => Promise<string | undefined>
  /** Keeps the relay's ticket across restarts of the app, so that its next start signs in without asking for a challenge. */
  tickets?: TicketStore
}

/**
 * Where the relay's ticket for the next sign-in waits between two starts of the app. It stays there
 * until a relay takes it (a start cut short by a reload loses nothing); two tabs may both try it, and
 * the second then signs in with a fresh challenge.
 */
export interface TicketStore {
  kept(): Promise<string | undefined>
  keep(ticket: string): Promise<void>
  /** A relay took it: forgotten, unless another one replaced it meanwhile. */
  spent(ticket: string): Promise<void>
}

/** A relay's ticket is a short challenge; anything else is not one. */
const MAX_TICKET_CHARS = 200

/** The join a device opens each connection to the relay with: its features (persisted heads, catch-up bundles) and its heads digests. */
export function joinMessage(peerId: PeerId, peerMetadata: PeerMetadata, digests: readonly DigestRequest[]): JoinMessage {
  return {
    type: 'join',
    senderId: peerId as unknown as PeerIdString,
    peerMetadata: { ...peerMetadata, placetteFeatures: [PERSISTED_HEADS_FEATURE, CATCH_UP_FEATURE], ...(digests.length ? { placetteDigest: [...digests] } : {}) },
    supportedProtocolVersions: [PROTOCOL_VERSION],
  }
}

/**
 * An automerge-repo network adapter for the relay, speaking automerge-repo's WebSocket protocol.
 * Unlike the stock client (which retries on a fixed multi-second timer), it reconnects as soon as the
 * device says it is back `online` or the page becomes visible, backs off quickly otherwise, and reports
 * its state so the UI can say honestly where the device stands.
 */
export class RelayAdapter extends NetworkAdapter {
  readonly url: string
  #WebSocket: WebSocketCtor
  #signIn: RelayAdapterOptions['signIn']
  /** The relay's challenge for our next connection (its answer to our last join), until used. */
  #ticket: string | undefined
  #tickets: TicketStore | undefined
  #opening = 0
  #events: RelayAdapterOptions['events']
  #socket: WebSocketLike | undefined
  #remotePeerId: PeerId | undefined
  #attempt = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stopped = true
  #ready = false
  #readyResolve!: () => void
  #readyPromise = new Promise<void>((resolve) => (this.#readyResolve = resolve))
  #connection: RelayConnection = { state: 'connecting', attempt: 0 }
  #listeners = new Set<(c: RelayConnection) => void>()
  #persistedListeners = new Set<PersistedHeadsListener>()
  #relayOpenListeners = new Set<(relayPeerId: PeerId, peerMetadata: unknown) => void>()
  #digests: (() => DigestRequest[] | Promise<DigestRequest[]>) | undefined

  constructor(options: RelayAdapterOptions) {
    super()
    this.url = options.url
    this.#WebSocket = options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketCtor)
    this.#signIn = options.signIn
    this.#tickets = options.tickets
    this.#events = options.events ?? (typeof window !== 'undefined' ? window : undefined)
  }

  isReady(): boolean {
    return this.#ready
  }

  whenReady(): Promise<void> {
    return this.#readyPromise
  }

  get connection(): RelayConnection {
    return this.#connection
  }

  /** Calls `listener` now and on every change of connection state; returns an unsubscribe function. */
  onConnection(listener: (c: RelayConnection) => void): () => void {
    this.#listeners.add(listener)
    listener(this.#connection)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Calls `listener` each time the relay says which heads of a document it has durably written
   * (only relays whose connection state says `persistedHeads`); returns an unsubscribe function.
   */
  onPersistedHeads(listener: PersistedHeadsListener): () => void {
    this.#persistedListeners.add(listener)
    return () => this.#persistedListeners.delete(listener)
  }

  /**
   * Calls `listener` when a relay has answered the join, before the repo hears of it (so a share policy
   * can hold documents back before automerge-repo starts syncing them; client/sync/heads-digest.ts).
   */
  onRelayOpen(listener: (relayPeerId: PeerId, peerMetadata: unknown) => void): () => void {
    this.#relayOpenListeners.add(listener)
    return () => this.#relayOpenListeners.delete(listener)
  }

  /** Where each join's heads digests come from (client/sync/heads-digest.ts); the answers come in the relay's `peer`. */
  sendDigestsFrom(source: () => DigestRequest[] | Promise<DigestRequest[]>): void {
    this.#digests = source
  }

  /** Reports heads of a document as on the relay's disk, as a persisted-heads message would (the digest found them there). */
  reportPersisted(documentId: string, heads: string[]): void {
    for (const listener of this.#persistedListeners) listener(documentId, heads, 'digest')
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    this.#stopped = false
    this.#events?.addEventListener('online', this.#onOnline)
    this.#events?.addEventListener('offline', this.#onOffline)
    this.#events?.addEventListener('visibilitychange', this.#onVisible)
    // Do not hold the repo up: a document we have locally must open at once even with no relay.
    setTimeout(() => this.#markReady(), 1000)
    this.#open()
  }

  disconnect(): void {
    this.#stopped = true
    this.#events?.removeEventListener('online', this.#onOnline)
    this.#events?.removeEventListener('offline', this.#onOffline)
    this.#events?.removeEventListener('visibilitychange', this.#onVisible)
    clearTimeout(this.#retryTimer)
    this.#drop()
    this.emit('close')
  }

  send(message: Message): void {
    const socket = this.#socket
    // A message to a relay we are not connected to is dropped: the sync protocol resends what is
    // missing when the connection comes back.
    if (!socket || socket.readyState !== 1 || !this.#remotePeerId) return
    if ('data' in message && message.data?.byteLength === 0) return
    socket.send(cbor.encode(message))
  }

  /** Reconnects now (used when the network comes back); resets the backoff. */
  reconnectNow(): void {
    if (this.#stopped) return
    // A saturated relay said when to come back: the page becoming visible again is no reason to knock sooner.
    if (this.#connection.state === 'busy' && this.#connection.retryAt > Date.now()) return
    this.#attempt = 0
    if (this.#socket && this.#socket.readyState <= 1) return
    clearTimeout(this.#retryTimer)
    this.#open()
  }

  /** Signs in again from scratch: the device now has someone else to sign in as (a new profile, an invitation). */
  signInAgain(): void {
    if (this.#stopped) return
    this.#attempt = 0
    clearTimeout(this.#retryTimer)
    this.#open()
  }

  #onOnline = () => this.reconnectNow()
  #onOffline = () => {
    this.#drop()
    this.#setConnection({ state: 'offline' })
  }
  #onVisible = () => {
    if (typeof document === 'undefined' || document.visibilityState === 'visible') this.reconnectNow()
  }

  #deviceOffline(): boolean {
    const nav = this.#events?.navigator ?? (typeof navigator !== 'undefined' ? navigator : undefined)
    return nav?.onLine === false
  }

  #open(): void {
    this.#drop()
    if (this.#deviceOffline()) {
      // Wait for `online` rather than knock on a door we know is shut; retry slowly in case the
      // device is wrong about it.
      this.#markReady()
      this.#setConnection({ state: 'offline' })
      clearTimeout(this.#retryTimer)
      this.#retryTimer = setTimeout(() => this.#open(), BACKOFF_MS[BACKOFF_MS.length - 1])
      return
    }
    // After a failed attempt, keep saying "unreachable" while retrying rather than flicker.
    if (this.#attempt === 0) this.#setConnection({ state: 'connecting', attempt: 0 })
    if (!this.#signIn) return this.#openSocket(this.url)
    const opening = ++this.#opening
    const signIn = this.#signIn
    // The relay's ticket from our last join (kept across restarts when there is a store) spares asking
    // it for a challenge first; it works once.
    const held = this.#ticket
    this.#ticket = undefined
    const kept = this.#tickets && !held ? this.#tickets.kept().catch(() => undefined) : Promise.resolve(undefined)
    kept
      .then(async (stored) => {
        const ticket = held ?? stored
        return { url: await signIn(this.url, this.peerId as string, ticket), ticket }
      })
      .then(
        ({ url, ticket }) => {
          if (opening !== this.#opening || this.#stopped) return
          if (url) return this.#openSocket(url, ticket)
          this.#markReady()
          this.#setConnection({ state: 'signed-out' })
        },
        // The relay did not give a challenge: unreachable, as far as this device can tell.
        () => {
          if (opening === this.#opening) this.#scheduleRetry()
        },
      )
  }

  /** `ticket`: the relay's ticket this URL signs, if it does. */
  #openSocket(url: string, ticket?: string): void {
    let socket: WebSocketLike
    // A ticket is spent only by a relay that took the socket: one that never opened keeps it for the next try.
    const unspent = () => {
      if (ticket && !this.#ticket) this.#ticket = ticket
    }
    try {
      socket = new this.#WebSocket(url)
    } catch {
      unspent()
      this.#scheduleRetry()
      return
    }
    socket.binaryType = 'arraybuffer'
    this.#socket = socket
    let opened = false
    socket.addEventListener('open', () => {
      opened = true
      if (ticket) void this.#tickets?.spent(ticket).catch(() => undefined)
      if (this.#socket !== socket) return
      // The digests may wait (boundedly) for the documents to load: a digest of nothing saves nothing.
      void Promise.resolve()
        .then(() => this.#digests?.() ?? [])
        .catch(() => [])
        .then((digests) => {
          if (this.#socket !== socket || socket.readyState !== 1) return
          socket.send(cbor.encode(joinMessage(this.peerId as PeerId, this.peerMetadata ?? {}, digests)))
        })
    })
    socket.addEventListener('message', (event: MessageEvent) => {
      if (this.#socket === socket) this.#receive(event.data)
    })
    socket.addEventListener('close', (event: CloseEvent) => {
      if (!opened) unspent()
      if (this.#socket !== socket) return
      this.#drop()
      if (event.code === CloseCode.unauthorized && event.reason === 'sign-in required') {
        // Nobody to sign in as yet: not an error; a new profile signs in again at once.
        this.#setConnection({ state: 'signed-out' })
        clearTimeout(this.#retryTimer)
        this.#retryTimer = setTimeout(() => this.#open(), BACKOFF_MS[BACKOFF_MS.length - 1])
        return
      }
      if (event.code === CloseCode.busy) {
        // Saturated: come back when it said, spread from half to one and a half times the delay so
        // that a village's phones turned away together do not return together.
        const delay = retryAfterSeconds(event.reason) * 1000 * (0.5 + Math.random())
        this.#markReady()
        this.#setConnection({ state: 'busy', retryAt: Date.now() + delay })
        clearTimeout(this.#retryTimer)
        this.#retryTimer = setTimeout(() => this.#open(), delay)
        return
      }
      if (ticket && event.code === CloseCode.unauthorized && event.reason === 'sign-in expired') {
        // The ticket was stale (the relay restarted, an hour went by, or another profile signs in now):
        // nothing to tell the person; sign in again at once with a fresh challenge.
        return this.#open()
      }
      if (event.code === CloseCode.forbidden || event.code === CloseCode.unauthorized) {
        // Said plainly to the person; tried again slowly (an expired sign-in just needs a new challenge).
        this.#setConnection({ state: 'refused', message: event.reason, code: event.code })
        if (event.reason === 'sign-in expired') return this.#scheduleRetry()
        clearTimeout(this.#retryTimer)
        this.#retryTimer = setTimeout(() => this.#open(), BACKOFF_MS[BACKOFF_MS.length - 1])
        return
      }
      this.#scheduleRetry()
    })
    socket.addEventListener('error', () => {
      // The browser gives no detail; `close` follows and schedules the retry.
    })
  }

  #receive(data: unknown): void {
    let decoded: unknown
    try {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array)
      decoded = cbor.decode(bytes)
    } catch {
      return // a frame we cannot read is ignored; the relay's next sync message repairs the state
    }
    if (isPersistedHeadsFrame(decoded)) return this.#receivePersisted(decoded)
    const parsed = parseServerMessage(decoded)
    if (!parsed.ok) return
    const message = parsed.message
    // A relay is run by someone else: a sync payload Automerge would choke on is dropped like garbage.
    if (syncPayloadProblem(message)) return
    if (message.type === 'peer') {
      this.#attempt = 0
      this.#remotePeerId = message.senderId as unknown as PeerId
      this.#markReady()
      this.#setConnection({
        state: 'open',
        relayPeerId: message.senderId,
        relayStorageId: message.peerMetadata.storageId,
        since: Date.now(),
        persistedHeads: announcesFeature(message.peerMetadata, PERSISTED_HEADS_FEATURE),
      })
      for (const listener of this.#relayOpenListeners) listener(message.senderId as unknown as PeerId, message.peerMetadata)
      const ticket = message.peerMetadata.placetteTicket
      this.#ticket = typeof ticket === 'string' && ticket.length <= MAX_TICKET_CHARS ? ticket : undefined
      if (this.#ticket) void this.#tickets?.keep(this.#ticket).catch(() => undefined)
      const { placetteDigest: _answers, placetteTicket: _ticket, ...peerMetadata } = message.peerMetadata
      this.emit('peer-candidate', { peerId: message.senderId as unknown as PeerId, peerMetadata: peerMetadata as PeerMetadata })
      return
    }
    if (message.type === 'error') {
      this.#setConnection({ state: 'refused', message: message.message })
      return
    }
    this.emit('message', message as unknown as Message)
  }

  #receivePersisted(decoded: unknown): void {
    const parsed = parsePersistedHeads(decoded)
    // Checked like every other frame; and only the relay of this connection speaks for its disk.
    if (!parsed.ok || parsed.message.senderId !== (this.#remotePeerId as string | undefined)) return
    const { documentId, heads } = parsed.message
    for (const listener of this.#persistedListeners) listener(documentId, heads, 'message')
  }

  #scheduleRetry(): void {
    this.#markReady()
    if (this.#stopped) return
    if (this.#deviceOffline()) {
      this.#open()
      return
    }
    this.#setConnection({ state: 'unreachable', attempt: this.#attempt + 1 })
    const base = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)] ?? 15000
    this.#attempt++
    clearTimeout(this.#retryTimer)
    // Jitter, so that a village's phones do not all knock on the relay at the same instant.
    this.#retryTimer = setTimeout(() => this.#open(), base * (0.75 + Math.random() * 0.5))
  }

  #drop(): void {
    const socket = this.#socket
    this.#socket = undefined
    if (socket && socket.readyState <= 1) {
      try {
        socket.close()
      } catch {
        // already closing
      }
    }
    if (this.#remotePeerId) {
      const peerId = this.#remotePeerId
      this.#remotePeerId = undefined
      this.emit('peer-disconnected', { peerId })
    }
  }

  #markReady(): void {
    if (this.#ready) return
    this.#ready = true
    this.#readyResolve()
  }

  #setConnection(c: RelayConnection): void {
    this.#connection = c
    for (const listener of this.#listeners) listener(c)
  }
}
