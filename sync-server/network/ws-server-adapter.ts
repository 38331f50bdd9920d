/**
 * The relay's WebSocket network adapter: automerge-repo's WebSocket protocol v1 (join → peer, error,
 * keepalive ping/pong), so stock automerge-repo clients connect unchanged, hardened for untrusted
 * peers: every frame is checked (frame-check.ts) before the repo sees it; a bad frame closes only its
 * own socket, with a named close code and a log line; frames are capped (`maxPayload`, also after
 * decompression); the stream is compressed (permessage-deflate); a peer that does not read its
 * messages is cut off before its queue exhausts memory.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import {
  busyReason,
  CloseCode,
  PROTOCOL_VERSION,
  selectProtocolVersion,
  type ErrorMessage,
  type JoinMessage,
  type PeerIdString,
  type PeerMessage,
  type PeerMetadataWire,
} from '../../shared/protocol.ts'
import type { Logger } from '../log.ts'
import type { RefusalReason, RelayMetrics } from '../metrics.ts'
import { checkFrame } from './frame-check.ts'
import type { Session, WriteVerdict } from '../access/gate.ts'
import type { FromClientMessage } from '../../shared/protocol.ts'
import { DEFAULT_RATE_LIMIT, TokenBucket, type RateLimit } from './token-bucket.ts'
import { parseDigestRequests, type DigestAnswer, type DigestRequest } from '../../shared/heads-digest.ts'
import type { Admission } from '../admission.ts'
import { AUTH_QUERY } from '../../shared/relay-auth.ts'

export interface WsServerAdapterOptions {
  /** Largest frame accepted (after decompression); larger ones close the socket with 1009. */
  maxFrameBytes: number
  log: Logger
  metrics: RelayMetrics
  /** A peer whose unsent output exceeds this is disconnected (default 16 MiB). */
  maxBufferedBytes?: number
  /** Ping period; a peer that has not answered the previous ping is dropped (default 30 s). */
  keepAliveMs?: number
  /** How long a closing socket may take to finish its close handshake before it is cut (default 2 s). */
  closeGraceMs?: number
  /** Inbound budget per socket; over it, the relay stops reading that socket for a while. */
  rateLimit?: RateLimit
  /** Signs sockets in and checks what they send (access/gate.ts); absent on an open relay. */
  gatekeeper?: Gatekeeper
  /** Placette protocol extensions this relay speaks, announced in its `peer` answer (`placetteFeatures`). */
  features?: readonly string[]
  /** Whether a new socket is taken now (sync-server/admission.ts); absent: always. */
  admission?: Pick<Admission, 'admit'>
  /**
   * The challenge a joined device signs at its next connection instead of fetching one, sent in the
   * join's answer (`placetteTicket`, access/challenges.ts), to sockets that signed in (even on an open
   * relay: the app signs in there too; a client that does not would pay for bytes it never uses);
   * `session`: whom the socket signed in as (absent on an open relay). Absent, or undefined: no ticket.
   */
  tickets?: (session: Session | undefined) => string | undefined
}

/** What the adapter asks of the relay's gatekeeping; every call is made in the socket's message order. */
export interface Gatekeeper {
  /** At upgrade: who is this? A refusal closes the socket with {@link CloseCode.unauthorized}. */
  signIn(request: IncomingMessage): Promise<{ ok: true; session: Session } | { ok: false; reason: string }>
  /** At join, once the peer ID matches the signed one; a refusal closes with {@link CloseCode.forbidden}. */
  admit(session: Session): Promise<{ ok: true } | { ok: false; reason: string; detail: string }>
  /** Before the repo sees a message from a joined peer. */
  checkWrite(peer: string, message: FromClientMessage): Promise<WriteVerdict>
  /**
   * The socket signed in with `session` is gone. Called for every signed-in socket: a newer socket of
   * the same peer may already have signed in (a reconnect whose old socket closed late), so the
   * gatekeeper forgets `session` only if it is still the peer's current one.
   */
  leave(session: Session): void
}

interface Connection {
  readonly id: number
  readonly socket: WebSocket
  readonly remote: string
  peerId?: PeerIdString
  /**
   * The peer ID of the socket's first join, set as soon as that frame is read. Messages are handled in
   * order behind asynchronous checks (a join's digest may load documents), so frames read meanwhile
   * are checked against this, not against {@link peerId}, which is set only when the join is handled.
   */
  claimedPeer?: PeerIdString
  /** Who signed in on this socket (gatekept relays only). */
  session?: Session
  /** The upgrade carried a sign-in token (`?auth=`): the device signs in, and may be given a ticket for next time. */
  readonly signsIn: boolean
  /** Messages are checked and handed to the repo in order, one after the other. */
  queue: Promise<void>
  /** A pong or a frame came since the last ping. */
  alive: boolean
  /** Pings in a row that went unanswered while the relay still had output queued for the peer. */
  late: number
  readonly budget: TokenBucket
  /** Set once we decided to close it: later frames are ignored. */
  closing: boolean
  readonly closed: Promise<void>
}

/** Answers the heads digests of a join (sync-server/heads-digest.ts); `commit` runs once the repo knows the peer. */
export type DigestHandler = (peer: PeerId, requests: DigestRequest[], peerMetadata: PeerMetadataWire) => Promise<{ answers: DigestAnswer[]; commit: () => void }>

/**
 * permessage-deflate, the relay's side without context takeover. ws keeps a zlib stream per socket and
 * direction; the relay's deflate stream is about 250 KB at the default window (ws's own README warns
 * of it), most of the relay's memory per client. Without context takeover nothing carries over between
 * the relay's messages, and the patched ws (patches/ws+8.23.0.patch) closes the stream after each one
 * instead of keeping it. Every message is compressed (`threshold: 0`, as browsers do theirs), each on
 * its own: the large ones (a catch-up answer, a first sync) lose nothing, the small ones a few bytes;
 * the patch also sizes each message's zlib state to the message (a few KB for an acknowledgement).
 * The devices keep context takeover for what they send: the relay's inflate stream (about 40 KB) stays,
 * and their small messages compress against the ones before.
 * Measured (bench/README.md, "What changed the figures"): relay memory per socket 290 → 98 KB; catch-up
 * of 100 posts 29.5 KB either way; a reconnect with nothing new 0.97 KB.
 */
/** Ping rounds a peer may stay silent while the relay's own output to it is still queued. */
const LATE_PINGS = 4

export const COMPRESSION = { serverNoContextTakeover: true, threshold: 0, clientMaxWindowBits: 12, zlibInflateOptions: { chunkSize: 4096 } } as const

export class WsServerAdapter extends NetworkAdapter {
  readonly #wss: WebSocketServer
  readonly #log: Logger
  readonly #metrics: RelayMetrics
  readonly #maxBuffered: number
  readonly #keepAliveMs: number
  readonly #closeGraceMs: number
  readonly #rateLimit: RateLimit
  readonly #gate: Gatekeeper | undefined
  readonly #features: readonly string[]
  readonly #admission: WsServerAdapterOptions['admission']
  readonly #tickets: WsServerAdapterOptions['tickets']
  readonly #connections = new Set<Connection>()
  readonly #byPeer = new Map<PeerIdString, Connection>()
  #nextId = 1
  #onDigest: DigestHandler | undefined
  #keepAlive: ReturnType<typeof setInterval> | undefined
  #ready = false
  #resolveReady!: () => void
  readonly #whenReady = new Promise<void>((resolve) => (this.#resolveReady = resolve))

  constructor(options: WsServerAdapterOptions) {
    super()
    this.#log = options.log
    this.#metrics = options.metrics
    this.#maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024
    this.#keepAliveMs = options.keepAliveMs ?? 30_000
    this.#closeGraceMs = options.closeGraceMs ?? 2_000
    this.#rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT
    this.#gate = options.gatekeeper
    this.#features = options.features ?? []
    this.#admission = options.admission
    this.#tickets = options.tickets
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      perMessageDeflate: COMPRESSION,
    })
  }

  /** Peers that completed the join handshake. */
  get peerCount(): number {
    return this.#byPeer.size
  }

  // A server is ready as soon as the repo gives it an identity: it has no connection to wait for.
  isReady(): boolean {
    return this.#ready
  }

  whenReady(): Promise<void> {
    return this.#whenReady
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    clearInterval(this.#keepAlive)
    this.#keepAlive = setInterval(() => this.#checkAlive(), this.#keepAliveMs)
    this.#keepAlive.unref()
    this.#ready = true
    this.#resolveReady()
  }

  /** Takes over an HTTP upgrade request for the sync path (the relay routes it here). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wait = this.#admission?.admit() ?? 0
    if (wait > 0) {
      // Saturated: the newcomer is told when to come back before it costs a sign-in or a first sync.
      // Upgraded, then closed: a browser reads a close reason, not an HTTP 503.
      const reason = busyReason(wait)
      this.#wss.handleUpgrade(request, socket, head, (ws) => {
        const conn = this.#accept(ws, request)
        this.#metrics.refuse('busy')
        this.#log.debug('socket refused: relay busy', { conn: conn.id, remote: conn.remote })
        this.#close(conn, CloseCode.busy, reason)
      })
      return
    }
    if (!this.#gate) {
      this.#wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request))
      return
    }
    void this.#gate.signIn(request).then(
      (result) =>
        this.#wss.handleUpgrade(request, socket, head, (ws) => {
          const conn = this.#accept(ws, request)
          if (result.ok) conn.session = result.session
          else {
            // Upgraded, then closed with the reason: a browser cannot read an HTTP refusal's body.
            this.#refuse(conn, 'unauthorized', result.reason)
            this.#close(conn, CloseCode.unauthorized, result.reason)
          }
        }),
      (err: unknown) => {
        this.#log.error('sign-in failed', { err })
        socket.destroy()
      },
    )
  }

  /**
   * Who answers the heads digests a client sends in its join (sync-server/heads-digest.ts); the
   * answers go in the `peer` message. Without a handler they are ignored (the client syncs everything).
   */
  answerDigestsWith(handler: DigestHandler): void {
    this.#onDigest = handler
  }

  /** Closes every socket of a member at once (revoked, or left). */
  cutOff(member: string, why: string): void {
    for (const conn of this.#connections) {
      if (conn.session?.id !== member || conn.closing) continue
      this.#refuse(conn, 'cut-off', why)
      this.#close(conn, CloseCode.forbidden, 'cut-off')
    }
  }

  send(message: Message): void {
    const conn = this.#byPeer.get(message.targetId as string as PeerIdString)
    if (!conn || conn.closing || conn.socket.readyState !== WebSocket.OPEN) {
      this.#log.debug('dropping a message for a peer that is gone', { peer: message.targetId, type: message.type })
      return
    }
    this.#sendTo(conn, message)
  }

  /** Called by `repo.shutdown()`: cuts every socket at once. Use {@link closeAll} first to say goodbye. */
  disconnect(): void {
    clearInterval(this.#keepAlive)
    for (const conn of this.#connections) conn.socket.terminate()
  }

  /** Closes every socket with `code` (1001 "going away" on shutdown), waiting briefly for each to end. */
  async closeAll(code: number = CloseCode.goingAway, reason = 'relay shutting down'): Promise<void> {
    const closing = [...this.#connections].map((conn) => {
      this.#close(conn, code, reason)
      return conn.closed
    })
    await Promise.all(closing)
    this.#wss.close()
  }

  #accept(socket: WebSocket, request: IncomingMessage): Connection {
    let markClosed!: () => void
    const conn: Connection = {
      id: this.#nextId++,
      socket,
      remote: `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`,
      alive: true,
      late: 0,
      budget: new TokenBucket(this.#rateLimit),
      closing: false,
      // The query alone (URLSearchParams never throws, whatever a client sends).
      signsIn: new URLSearchParams((request.url ?? '').split('?')[1] ?? '').has(AUTH_QUERY),
      queue: Promise.resolve(),
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
    }
    this.#connections.add(conn)
    this.#metrics.connectionsOpen++
    this.#metrics.connectionsTotal++
    const log = this.#log.child({ conn: conn.id })
    log.debug('socket open', { remote: conn.remote })

    socket.on('message', (data, isBinary) => this.#receive(conn, toBytes(data), isBinary))
    socket.on('pong', () => (conn.alive = true))
    socket.on('error', (err: Error & { code?: string }) => {
      // ws reports protocol errors here and closes the socket itself (1009 for an oversized frame).
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#refuse(conn, 'frame-too-large', err.message)
      else if (err.code?.startsWith('WS_ERR_')) this.#refuse(conn, 'malformed-frame', err.message)
      else log.debug('socket error', { err })
      conn.closing = true
    })
    socket.on('close', (code, reason) => {
      this.#connections.delete(conn)
      this.#metrics.connectionsOpen--
      this.#unregister(conn)
      if (conn.session) this.#gate?.leave(conn.session)
      log.debug('socket closed', { peer: conn.peerId, code, reason: reason.toString('utf8').slice(0, 120) })
      markClosed()
    })
    return conn
  }

  #receive(conn: Connection, frame: Uint8Array, isBinary: boolean): void {
    if (conn.closing) return
    // A frame proves the peer alive as well as a pong: under load the pong is read after the frames before it.
    conn.alive = true
    this.#metrics.framesIn++
    this.#metrics.bytesIn += frame.byteLength
    this.#throttle(conn, frame.byteLength)
    const verdict = checkFrame(frame, isBinary, conn.claimedPeer)
    if (!verdict.ok) {
      this.#refuse(conn, verdict.reason, verdict.detail)
      this.#close(conn, verdict.code, verdict.reason)
      return
    }
    const message = verdict.message
    if (message.type === 'join') conn.claimedPeer ??= message.senderId
    // Checks may load documents, and a join's digest is answered from them: keep the socket's
    // messages in order behind them.
    conn.queue = conn.queue.then(() => (this.#gate ? this.#gated(conn, message) : this.#handle(conn, message))).catch((err: unknown) => {
      this.#log.error('gate failed on a message', { conn: conn.id, peer: conn.peerId, err })
      this.#close(conn, CloseCode.internal, 'relay error')
    })
  }

  async #gated(conn: Connection, message: FromClientMessage): Promise<void> {
    if (conn.closing) return
    const gate = this.#gate!
    if (message.type === 'join') {
      const session = conn.session
      if (!session) return
      if (conn.peerId === undefined) {
        if (message.senderId !== session.peer) {
          this.#refuse(conn, 'protocol-violation', 'peer ID is not the one signed in')
          this.#close(conn, CloseCode.protocol, 'peer ID is not the one signed in')
          return
        }
        const admitted = await gate.admit(session)
        if (conn.closing) return
        if (!admitted.ok) {
          this.#refuse(conn, 'forbidden', `${admitted.reason}: ${admitted.detail}`)
          this.#close(conn, CloseCode.forbidden, admitted.reason)
          return
        }
      }
      return this.#handle(conn, message)
    }
    if (conn.peerId !== undefined && 'documentId' in message) {
      const verdict = await gate.checkWrite(conn.peerId, message)
      if (conn.closing) return
      if (!verdict.ok) {
        this.#refuse(conn, 'forbidden', `${verdict.reason}: ${verdict.detail}`)
        if (verdict.close) this.#close(conn, CloseCode.forbidden, verdict.reason)
        return
      }
    }
    this.#handle(conn, message)
  }

  #handle(conn: Connection, message: FromClientMessage): void | Promise<void> {
    if (message.type === 'join') return this.#join(conn, message)

    if (message.targetId !== (this.peerId as string)) {
      // Meant for an earlier run of the relay (its peer ID changes on restart): stale, not hostile.
      this.#metrics.refuse('wrong-target')
      this.#log.debug('message for another peer dropped', { conn: conn.id, peer: conn.peerId, type: message.type })
      return
    }
    try {
      this.emit('message', message as unknown as Message)
    } catch (err) {
      // The repo threw while handling a checked message: log it and keep serving everyone.
      this.#metrics.refuse('repo-error')
      this.#log.error('repo failed on a message', { conn: conn.id, peer: conn.peerId, type: message.type, err })
    }
  }

  async #join(conn: Connection, join: JoinMessage): Promise<void> {
    const peerId = join.senderId
    if (conn.peerId === peerId) {
      // The stock client may join twice on one socket (on connect and on open): answer again.
      this.#sendTo(conn, this.#peerMessage(peerId))
      return
    }
    if (selectProtocolVersion(join.supportedProtocolVersions) === undefined) {
      const error: ErrorMessage = { type: 'error', senderId: this.peerId as string as PeerIdString, targetId: peerId, message: 'unsupported protocol version' }
      this.#sendTo(conn, error)
      this.#refuse(conn, 'protocol-violation', `unsupported protocol versions ${join.supportedProtocolVersions.join(',').slice(0, 60)}`)
      this.#close(conn, CloseCode.protocol, 'unsupported protocol version')
      return
    }
    const replaced = () => {
      const previous = this.#byPeer.get(peerId)
      if (!previous || previous === conn) return
      // The same peer on a new socket (a reconnect that beat the old socket's timeout): the new one wins.
      this.#close(previous, CloseCode.normal, 'replaced by a newer connection')
      this.#log.info('peer reconnected; old socket closed', { peer: peerId, old: previous.id, conn: conn.id })
    }
    replaced()
    conn.peerId = peerId
    const { placetteDigest: _digests, ...peerMetadata } = join.peerMetadata
    const requests = parseDigestRequests(_digests)
    const digest = requests.ok && requests.requests?.length && this.#onDigest ? await this.#onDigest(peerId as string as PeerId, requests.requests, peerMetadata) : undefined
    if (conn.closing) return
    replaced()
    this.#byPeer.set(peerId, conn)
    // Answer before telling the repo, so the peer hears who we are before any sync message from us.
    const ticket = conn.signsIn ? this.#tickets?.(conn.session) : undefined
    this.#sendTo(conn, this.#peerMessage(peerId, digest?.answers, ticket))
    this.#log.info('peer joined', { peer: peerId, conn: conn.id, remote: conn.remote })
    this.emit('peer-candidate', { peerId: peerId as string as PeerId, peerMetadata: peerMetadata as PeerMetadata })
    digest?.commit()
  }

  #peerMessage(targetId: PeerIdString, digests?: DigestAnswer[], ticket?: string): PeerMessage {
    return {
      type: 'peer',
      senderId: this.peerId as string as PeerIdString,
      peerMetadata: {
        ...this.peerMetadata,
        isEphemeral: false,
        ...(this.#features.length ? { placetteFeatures: [...this.#features] } : {}),
        ...(digests ? { placetteDigest: digests } : {}),
        ...(ticket ? { placetteTicket: ticket } : {}),
      } as PeerMessage['peerMetadata'],
      selectedProtocolVersion: PROTOCOL_VERSION,
      targetId,
    }
  }

  #sendTo(conn: Connection, message: object): void {
    let bytes: Uint8Array
    try {
      bytes = cbor.encode(message)
    } catch (err) {
      this.#log.error('could not encode an outgoing message', { conn: conn.id, err })
      return
    }
    conn.socket.send(bytes)
    this.#metrics.framesOut++
    this.#metrics.bytesOut += bytes.byteLength
    if (conn.socket.bufferedAmount > this.#maxBuffered) {
      this.#refuse(conn, 'slow-consumer', `${conn.socket.bufferedAmount} bytes waiting to be sent`)
      conn.closing = true
      // Unregister now, not on the close event, so the repo stops queueing messages for it at once.
      this.#unregister(conn)
      conn.socket.terminate()
    }
  }

  /** Tells the repo the peer is gone, unless a newer socket already speaks for it. */
  #unregister(conn: Connection): void {
    if (conn.peerId === undefined || this.#byPeer.get(conn.peerId) !== conn) return
    this.#byPeer.delete(conn.peerId)
    this.emit('peer-disconnected', { peerId: conn.peerId as string as PeerId })
  }

  #refuse(conn: Connection, reason: RefusalReason, detail: string): void {
    this.#metrics.refuse(reason)
    this.#log.warn('socket refused', { conn: conn.id, peer: conn.peerId, remote: conn.remote, reason, detail })
  }

  /** Starts the close handshake and cuts the socket if the peer does not complete it in time. */
  #close(conn: Connection, code: number, reason: string): void {
    conn.closing = true
    this.#unregister(conn)
    if (conn.socket.readyState === WebSocket.CLOSED) return
    conn.socket.close(code, reason)
    const cut = setTimeout(() => conn.socket.terminate(), this.#closeGraceMs)
    cut.unref()
    void conn.closed.then(() => clearTimeout(cut))
  }

  /** Over budget: stop reading this socket until the debt is repaid (TCP then slows the sender). */
  #throttle(conn: Connection, bytes: number): void {
    const pauseMs = conn.budget.take(bytes)
    if (pauseMs === 0 || conn.socket.isPaused) return
    this.#metrics.throttled++
    this.#log.debug('peer over its rate; reading paused', { conn: conn.id, peer: conn.peerId, pauseMs })
    conn.socket.pause()
    // A pause also holds back pongs: count the peer alive rather than drop it for our own doing.
    conn.alive = true
    setTimeout(() => {
      conn.alive = true
      conn.socket.resume()
    }, pauseMs).unref()
  }

  /**
   * Drops a peer that answered neither the last ping nor with any frame. A ping queued behind output
   * the relay has not sent yet (a backlog of its own, compression waiting for the thread pool) cannot
   * have been answered: the peer gets {@link LATE_PINGS} rounds before it is dropped, and a peer that
   * really stops reading is cut sooner by the slow-consumer rule (16 MiB waiting).
   */
  #checkAlive(): void {
    for (const conn of this.#connections) {
      if (conn.alive) conn.late = 0
      else if (conn.socket.bufferedAmount > 0 && ++conn.late < LATE_PINGS) continue
      else {
        this.#log.info('peer stopped answering pings; dropped', { conn: conn.id, peer: conn.peerId, late: conn.late })
        conn.socket.terminate()
        continue
      }
      conn.alive = false
      if (conn.socket.readyState === WebSocket.OPEN) conn.socket.ping()
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
