/**
 * The relay's connection to one upstream relay (`--upstream <url>`): a WebSocket client speaking the
 * same protocol v1 as phones do, so any Placette relay (or stock automerge-repo sync server) can be an
 * upstream. It keeps trying while the line is down (backoff with jitter), resumes after every
 * interruption, and checks every frame it receives (upstream-check.ts): a bad one closes only this
 * connection, with a named code and a log line, and the relay tries again later.
 *
 * The repo knows the upstream as `upstream/<index>/<its peer ID>` (peering.ts): this adapter
 * translates that name on the way in and out, and the relay's share policy announces every hosted
 * document to such peers only.
 */
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { WebSocket, type RawData } from 'ws'
import { CloseCode, PROTOCOL_VERSION, type JoinMessage, type PeerIdString } from '../../shared/protocol.ts'
import type { Logger } from '../log.ts'
import { upstreamPeerId } from '../peering.ts'
import { checkUpstreamFrame } from './upstream-check.ts'

/** Retry delays in ms after a failed or lost connection; the last one repeats. Jittered by ±25%. */
export const UPSTREAM_BACKOFF_MS: readonly number[] = [500, 1_000, 2_000, 5_000, 10_000, 30_000]

export interface UpstreamAdapterOptions {
  /** `ws://host:port/sync` or `wss://…`. */
  url: string
  /** Position among the relay's upstreams; part of the repo's name for the peer. */
  index: number
  log: Logger
  /** Largest frame accepted from the upstream (after decompression). */
  maxFrameBytes: number
  backoffMs?: readonly number[]
  /** Ping period; an upstream that has not answered the previous ping is dropped (default 30 s). */
  keepAliveMs?: number
  /** How long the upstream has to open the socket and answer our join (default 10 s). */
  handshakeTimeoutMs?: number
  /** More unsent output than this means the line is too slow: drop and reconnect (default 16 MiB). */
  maxBufferedBytes?: number
  /** Gives the URL to open for one connection, signed in with the relay's key (access/sign-in.ts). */
  signIn?: (url: string, peerId: string) => Promise<string>
}

/** Where one upstream connection stands (shown on /healthz). */
export interface UpstreamStatus {
  /** The URL, without any user name or password it may hold. */
  url: string
  state: 'connecting' | 'open' | 'waiting' | 'stopped'
  /** The upstream's peer ID while open. */
  peer?: string
  /** Failed attempts since the last successful connection. */
  failures: number
  /** ms since epoch of the last change of state. */
  since: number
}

/** The URL for logs and /healthz: credentials in it are not shown. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString()
  } catch {
    return url.slice(0, 200)
  }
}

export class UpstreamAdapter extends NetworkAdapter {
  readonly url: string
  readonly #shownUrl: string
  readonly #index: number
  readonly #log: Logger
  readonly #maxFrameBytes: number
  readonly #backoff: readonly number[]
  readonly #keepAliveMs: number
  readonly #handshakeTimeoutMs: number
  readonly #maxBuffered: number
  readonly #signIn: UpstreamAdapterOptions['signIn']
  #socket: WebSocket | undefined
  /** The upstream's own peer ID, once it answered our join on the current socket. */
  #remote: PeerIdString | undefined
  #alias: PeerId | undefined
  /** Whether the current socket got as far as the upstream's answer to our join. */
  #hadPeer = false
  #failures = 0
  #retry: ReturnType<typeof setTimeout> | undefined
  #handshake: ReturnType<typeof setTimeout> | undefined
  #keepAlive: ReturnType<typeof setInterval> | undefined
  #alive = true
  #stopped = true
  #status: UpstreamStatus

  constructor(options: UpstreamAdapterOptions) {
    super()
    this.url = options.url
    this.#shownUrl = displayUrl(options.url)
    this.#index = options.index
    this.#log = options.log.child({ upstream: this.#shownUrl })
    this.#maxFrameBytes = options.maxFrameBytes
    this.#backoff = options.backoffMs?.length ? options.backoffMs : UPSTREAM_BACKOFF_MS
    this.#keepAliveMs = options.keepAliveMs ?? 30_000
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000
    this.#maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024
    this.#signIn = options.signIn
    this.#status = { url: this.#shownUrl, state: 'stopped', failures: 0, since: Date.now() }
  }

  get status(): UpstreamStatus {
    return { ...this.#status }
  }

  // Never holds the repo up: documents it has must be served at once, upstream or not.
  isReady(): boolean {
    return true
  }

  whenReady(): Promise<void> {
    return Promise.resolve()
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    if (!this.#stopped) return
    this.#stopped = false
    clearInterval(this.#keepAlive)
    this.#keepAlive = setInterval(() => this.#checkAlive(), this.#keepAliveMs)
    this.#keepAlive.unref()
    this.#open()
  }

  send(message: Message): void {
    const socket = this.#socket
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.#remote || message.targetId !== this.#alias) {
      // The sync protocol resends what is missing once the connection is back.
      this.#log.debug('dropping a message for an upstream that is not connected', { type: message.type })
      return
    }
    // The repo passes on its clients' presence messages with their sender IDs; a relay only speaks
    // for itself upstream (the upstream would take any other sender ID as an impersonation).
    if (message.type === 'ephemeral' || message.senderId !== this.peerId) return
    let bytes: Uint8Array
    try {
      bytes = cbor.encode({ ...message, targetId: this.#remote })
    } catch (err) {
      this.#log.error('could not encode a message for the upstream', { err })
      return
    }
    socket.send(bytes)
    if (socket.bufferedAmount > this.#maxBuffered) {
      this.#log.warn('upstream is not reading fast enough; reconnecting', { buffered: socket.bufferedAmount })
      // Stop queueing at once; the close event schedules the reconnection.
      this.#lost('slow upstream')
      socket.terminate()
    }
  }

  /** Closes the connection for good (the repo calls this on shutdown). */
  disconnect(): void {
    if (this.#stopped) return
    this.#stopped = true
    clearTimeout(this.#retry)
    clearTimeout(this.#handshake)
    clearInterval(this.#keepAlive)
    const socket = this.#socket
    if (socket) {
      this.#socket = undefined
      this.#lost('relay shutting down')
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(CloseCode.goingAway, 'relay shutting down')
      // Do not wait for the close handshake of a line that may be dead.
      setTimeout(() => socket.terminate(), 2_000).unref()
    }
    this.#setStatus('stopped')
    this.emit('close')
  }

  #open(): void {
    if (this.#stopped) return
    this.#setStatus('connecting')
    if (!this.#signIn) return this.#openSocket(this.url)
    // Signs in with the relay's key: a fresh challenge from the upstream for every connection.
    this.#signIn(this.url, this.peerId as string).then(
      (url) => {
        if (!this.#stopped) this.#openSocket(url)
      },
      (err: unknown) => {
        this.#log.debug('upstream sign-in failed', { err })
        this.#scheduleRetry()
      },
    )
  }

  #openSocket(url: string): void {
    let socket: WebSocket
    try {
      socket = new WebSocket(url, { maxPayload: this.#maxFrameBytes, perMessageDeflate: true, handshakeTimeout: this.#handshakeTimeoutMs })
    } catch (err) {
      // A URL `ws` refuses; config.ts checks them, so this is a bug or a very odd address.
      this.#log.error('cannot open the upstream connection', { err })
      this.#scheduleRetry()
      return
    }
    this.#socket = socket
    this.#hadPeer = false
    this.#alive = true
    clearTimeout(this.#handshake)
    this.#handshake = setTimeout(() => {
      if (this.#socket === socket && !this.#remote) {
        this.#log.debug('upstream did not answer the join in time')
        socket.terminate()
      }
    }, this.#handshakeTimeoutMs)
    this.#handshake.unref()

    socket.on('open', () => {
      const join: JoinMessage = {
        type: 'join',
        senderId: this.peerId as string as PeerIdString,
        peerMetadata: { ...this.peerMetadata, isEphemeral: false } as JoinMessage['peerMetadata'],
        supportedProtocolVersions: [PROTOCOL_VERSION],
      }
      socket.send(cbor.encode(join))
    })
    socket.on('message', (data, isBinary) => {
      if (this.#socket === socket) this.#receive(socket, toBytes(data), isBinary)
    })
    socket.on('pong', () => (this.#alive = true))
    socket.on('error', (err: Error & { code?: string }) => {
      // `close` follows and schedules the retry; say why only when it is worth saying.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#log.warn('upstream sent a frame larger than allowed', { maxFrameBytes: this.#maxFrameBytes })
      else this.#log.debug('upstream socket error', { err: err.message, code: err.code })
    })
    socket.on('close', (code, reason) => {
      if (this.#socket !== socket) return
      this.#socket = undefined
      clearTimeout(this.#handshake)
      this.#lost(reason.toString('utf8').slice(0, 120) || String(code))
      const wasOpen = this.#hadPeer
      if (this.#stopped) return
      const delay = this.#scheduleRetry()
      if (wasOpen) this.#log.info('upstream disconnected', { code, reason: reason.toString('utf8').slice(0, 120), retryInMs: delay })
      else if (this.#failures === 1) this.#log.info('upstream unreachable; retrying', { code, retryInMs: delay })
      else this.#log.debug('upstream still unreachable', { code, failures: this.#failures, retryInMs: delay })
    })
  }

  #receive(socket: WebSocket, frame: Uint8Array, isBinary: boolean): void {
    const verdict = checkUpstreamFrame(frame, isBinary, this.peerId as string as PeerIdString, this.#remote)
    if (verdict.ok === 'ignore') {
      this.#log.debug('upstream message ignored', { detail: verdict.detail })
      return
    }
    if (!verdict.ok) {
      this.#log.warn('upstream sent a bad frame; reconnecting later', { reason: verdict.reason, detail: verdict.detail })
      // Treat it like a failure: back off rather than hammer a misbehaving relay.
      this.#failures = Math.max(this.#failures, this.#backoff.length - 1)
      socket.close(verdict.code, verdict.reason)
      return
    }
    const message = verdict.message
    if (message.type === 'error') {
      this.#log.warn('upstream refused us', { message: message.message })
      this.#failures = Math.max(this.#failures, this.#backoff.length - 1)
      socket.close(CloseCode.normal, 'refused')
      return
    }
    if (message.type === 'peer') {
      if (this.#remote) return // a repeated answer to our join
      clearTimeout(this.#handshake)
      this.#remote = message.senderId
      this.#hadPeer = true
      this.#alias = upstreamPeerId(this.#index, message.senderId)
      this.#failures = 0
      this.#setStatus('open', message.senderId)
      this.#log.info('upstream connected', { peer: message.senderId })
      this.emit('peer-candidate', {
        peerId: this.#alias,
        peerMetadata: { storageId: message.peerMetadata.storageId, isEphemeral: false } as PeerMetadata,
      })
      return
    }
    try {
      this.emit('message', { ...message, senderId: this.#alias } as unknown as Message)
    } catch (err) {
      // The repo threw on a checked message: log it and keep the link.
      this.#log.error('repo failed on an upstream message', { type: message.type, err })
    }
  }

  /** Forgets the current socket's peer and tells the repo. */
  #lost(why: string): void {
    const alias = this.#alias
    this.#remote = undefined
    this.#alias = undefined
    if (!alias) return
    this.#log.debug('upstream peer gone', { why })
    this.emit('peer-disconnected', { peerId: alias })
  }

  #scheduleRetry(): number {
    this.#failures++
    const base = this.#backoff[Math.min(this.#failures - 1, this.#backoff.length - 1)] ?? 30_000
    const delay = Math.round(base * (0.75 + Math.random() * 0.5))
    this.#setStatus('waiting')
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => this.#open(), delay)
    this.#retry.unref()
    return delay
  }

  #checkAlive(): void {
    const socket = this.#socket
    if (!socket || socket.readyState !== WebSocket.OPEN) return
    if (!this.#alive) {
      this.#log.info('upstream stopped answering pings; reconnecting')
      socket.terminate()
      return
    }
    this.#alive = false
    socket.ping()
  }

  #setStatus(state: UpstreamStatus['state'], peer?: string): void {
    this.#status = { url: this.#shownUrl, state, failures: this.#failures, since: Date.now(), ...(peer ? { peer } : {}) }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
