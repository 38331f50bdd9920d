/**
 * An in-memory network link between two nodes of the simulation, whose delivery the simulation
 * controls: messages wait in the link until it delivers them, drops them, duplicates them or delivers
 * them out of order; the link can be cut (both ends hear the peer is gone and what was in flight is
 * lost, as with a closed socket) and restored (both ends meet again, which restarts sync).
 *
 * Each end is an automerge-repo `NetworkAdapter`. A node that restarts attaches a new end to the same
 * link. Frames are CBOR-encoded on the way, as on the wire, and frames reaching a relay go through the
 * relay's own frame checks, so the simulation also proves that they accept everything real traffic
 * under faults looks like.
 *
 * A device's link to a relay opens as its socket does: the device's join, with its heads digests
 * (client/sync/heads-digest.ts, through the device end's `sendDigestsFrom`), then the relay's `peer`,
 * with its answers (sync-server/heads-digest.ts, through the relay end's `answerDigestsWith`), then
 * each repo hears of the other, the relay's first, as sync-server/network/ws-server-adapter.ts and
 * client/sync/websocket-adapter.ts do. These two frames are never lost, duplicated or overtaken (a
 * socket whose opening is lost never opens: that is a cut); the faults apply to what follows.
 */
import { next as A } from '@automerge/automerge'
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { joinMessage } from '../../client/sync/websocket-adapter.ts'
import { parseCatchUp } from '../../shared/catch-up.ts'
import { BUCKET_HASH_BYTES, DIGEST_BUCKETS, parseDigestAnswers, parseDigestRequests, type DigestRequest } from '../../shared/heads-digest.ts'
import { isPersistedHeadsFrame, parsePersistedHeads, PERSISTED_HEADS_FEATURE } from '../../shared/persisted-heads.ts'
import { parseServerMessage, PROTOCOL_VERSION, type JoinMessage, type PeerIdString, type PeerMessage } from '../../shared/protocol.ts'
import type { DigestHandler } from '../../sync-server/network/ws-server-adapter.ts'
import { checkFrame } from '../../sync-server/network/frame-check.ts'
import { checkUpstreamFrame } from '../../sync-server/network/upstream-check.ts'
import { upstreamPeerId } from '../../sync-server/peering.ts'
import type { Rng } from './prng.ts'

export interface Faults {
  /** Probability that a message is lost. */
  drop: number
  /** Probability that a delivered message is delivered again later. */
  duplicate: number
  /** Probability that the next delivery is a random message in flight rather than the oldest. */
  reorder: number
}

export const NO_FAULTS: Faults = { drop: 0, duplicate: 0, reorder: 0 }

/** How one end of a link behaves. */
export interface EndRole {
  /** This end is a relay's client-facing socket: frames reaching it are checked as the relay does (frame-check.ts). */
  relayServer?: boolean
  /** This end is a relay reaching its upstream through connection `n`: the far end is known by its alias (peering.ts), frames are checked as upstream-check.ts does. */
  upstreamIndex?: number
}

type Side = 0 | 1
const other = (side: Side): Side => (side === 0 ? 1 : 0)

interface InFlight {
  to: Side
  bytes: Uint8Array
  /** The join or the relay's `peer`: never lost, duplicated or overtaken. */
  opening?: boolean
}

export interface LinkStats {
  sent: number
  delivered: number
  dropped: number
  duplicated: number
  /** Joins that carried heads digests. */
  digests: number
  /** Non-empty digest buckets the relay found the same (their documents are held back): proof the digest is exercised. */
  sameBuckets: number
  /** Documents the relay's answers carried catch-up bundles for (shared/catch-up.ts): proof catch-up is exercised. */
  caughtUp: number
}

export const NO_STATS: LinkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, digests: 0, sameBuckets: 0, caughtUp: 0 }

export class SimEnd extends NetworkAdapter {
  #connected = false
  /** Disconnected for good: a repo that connects late (it connects once its storage ID is known) is ignored. */
  #dead = false

  constructor(
    readonly link: SimLink,
    readonly side: Side,
  ) {
    super()
  }

  get connected(): boolean {
    return this.#connected
  }

  isReady(): boolean {
    return true
  }

  whenReady(): Promise<void> {
    return Promise.resolve()
  }

  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    if (this.#dead) return
    this.#connected = true
    this.link.endConnected(this)
  }

  send(message: Message): void {
    this.link.send(this, message)
  }

  disconnect(): void {
    this.#dead = true
    if (!this.#connected) return
    this.#connected = false
    this.link.endDetached(this)
  }

  // A device's end of a link to a relay: what RelayAdapter offers the heads digest (DigestRelay).

  digestSource: (() => DigestRequest[] | Promise<DigestRequest[]>) | undefined
  readonly #relayOpen = new Set<(relayPeerId: PeerId, peerMetadata: unknown) => void>()
  /** Persisted-heads reports the relay sent or the digest found (the status bar's; counted only). */
  persistedReports = 0

  sendDigestsFrom(source: () => DigestRequest[] | Promise<DigestRequest[]>): void {
    this.digestSource = source
  }

  onRelayOpen(listener: (relayPeerId: PeerId, peerMetadata: unknown) => void): () => void {
    this.#relayOpen.add(listener)
    return () => this.#relayOpen.delete(listener)
  }

  reportPersisted(): void {
    this.persistedReports++
  }

  relayOpened(relayPeerId: PeerId, peerMetadata: unknown): void {
    for (const listener of this.#relayOpen) listener(relayPeerId, peerMetadata)
  }

  // A relay's end of a link from a device: what WebSocketServerAdapter offers the heads digest.

  digestHandler: DigestHandler | undefined

  answerDigestsWith(handler: DigestHandler): void {
    this.digestHandler = handler
  }
}

export class SimLink {
  up = true
  faults: Faults = NO_FAULTS
  /** Debugging: every message for this document delivered on this link is described here. */
  traceDoc?: { documentId?: string; log: (line: string, documentId: string) => void }
  readonly stats: LinkStats = { ...NO_STATS }
  /**
   * Whether the link lost, duplicated or reordered a message since it was last (re)connected: only
   * then does sync need the link re-established to make progress (a reliable, ordered link does not).
   */
  disturbed = false
  readonly #ends: [SimEnd | undefined, SimEnd | undefined] = [undefined, undefined]
  #queue: InFlight[] = []
  #announced = false
  /** Which end's repo has heard of the other on this connection. */
  #told: [boolean, boolean] = [false, false]
  /** Counts connections, so that a step of an opening that outlived its connection does nothing. */
  #session = 0
  /** The digests of the join in flight on this connection. */
  #joinDigests: readonly DigestRequest[] = []
  /** A device's link to a relay: the device's side (it joins, the relay answers). */
  readonly #deviceSide: Side | undefined

  /**
   * @param onViolation called when a relay's frame check refuses a frame real peers sent: a bug.
   */
  constructor(
    readonly name: string,
    readonly roles: readonly [EndRole, EndRole],
    readonly onViolation: (detail: string) => void,
  ) {
    const [a, b] = roles
    if (b.relayServer && !a.relayServer && a.upstreamIndex === undefined) this.#deviceSide = 0
    else if (a.relayServer && !b.relayServer && b.upstreamIndex === undefined) this.#deviceSide = 1
  }

  /** A new end for side `side` (its node's new incarnation); the previous one must be detached. */
  attach(side: Side): SimEnd {
    if (this.#ends[side]?.connected) throw new Error(`${this.name}: side ${side} is still attached`)
    const end = new SimEnd(this, side)
    this.#ends[side] = end
    return end
  }

  get pending(): number {
    return this.#queue.length
  }

  /** Both ends are running and announced to each other. */
  get live(): boolean {
    return this.#announced
  }

  cut(): void {
    if (!this.up) return
    this.up = false
    this.#unannounce()
  }

  restore(): void {
    if (this.up) return
    this.up = true
    this.#announce()
  }

  /** Delivers (or drops, or duplicates) one message in flight, as the faults say. */
  deliverOne(rng: Rng): void {
    if (this.#queue.length === 0) return
    // Nothing overtakes an opening frame.
    const opening = this.#queue.findIndex((i) => i.opening)
    const last = opening === -1 ? this.#queue.length - 1 : opening
    const index = this.faults.reorder > 0 && rng.chance(this.faults.reorder) ? rng.int(0, last) : 0
    const [item] = this.#queue.splice(index, 1) as [InFlight]
    if (index > 0) this.disturbed = true
    if (item.opening) return this.#deliver(item)
    if (this.faults.drop > 0 && rng.chance(this.faults.drop)) {
      this.stats.dropped++
      this.disturbed = true
      return
    }
    if (this.faults.duplicate > 0 && rng.chance(this.faults.duplicate)) {
      this.stats.duplicated++
      this.disturbed = true
      this.#queue.splice(rng.int(0, this.#queue.length), 0, { ...item })
    }
    this.#deliver(item)
  }

  /** Delivers everything in flight, oldest first, with no faults. */
  drain(): number {
    let n = 0
    while (this.#queue.length > 0) {
      this.#deliver(this.#queue.shift() as InFlight)
      n++
    }
    return n
  }

  // Called by the ends.

  endConnected(end: SimEnd): void {
    if (this.#ends[end.side] !== end) return
    this.#announce()
  }

  endDetached(end: SimEnd): void {
    if (this.#ends[end.side] !== end) return
    this.#unannounce()
  }

  send(from: SimEnd, message: Message): void {
    const to = this.#ends[other(from.side)]
    // An end whose repo has not heard of the far end has nobody to send to (as the adapters drop it).
    if (!this.#announced || !this.#told[from.side] || this.#ends[from.side] !== from || !to) return
    const role = this.roles[from.side]
    let wire: Message = message
    if (role.upstreamIndex !== undefined) {
      // What UpstreamAdapter.send does: only our own messages go up, addressed by the upstream's real ID.
      if (message.type === 'ephemeral' || message.senderId !== from.peerId) return
      if (message.targetId !== this.#nameFor(from.side)) return
      wire = { ...message, targetId: to.peerId as PeerId }
    } else if (message.targetId !== to.peerId) return
    this.stats.sent++
    this.#queue.push({ to: other(from.side), bytes: cbor.encode(wire) })
  }

  /** The name under which the end at `side` knows the far end. */
  #nameFor(side: Side): PeerId {
    const far = this.#ends[other(side)]?.peerId as PeerId
    const index = this.roles[side].upstreamIndex
    return index === undefined ? far : upstreamPeerId(index, far)
  }

  #deliver(item: InFlight): void {
    const to = this.#ends[item.to]
    const from = this.#ends[other(item.to)]
    if (!to || !from || !this.#announced) return
    const role = this.roles[item.to]
    if (item.opening) return this.#deliverOpening(item, to, from)
    let decoded: unknown
    if (role.relayServer) {
      const verdict = checkFrame(item.bytes, true, from.peerId as string as PeerIdString)
      if (!verdict.ok) {
        this.onViolation(`${this.name}: the relay's frame check refused a frame from ${from.peerId}: ${verdict.reason} ${verdict.detail}`)
        return
      }
      decoded = verdict.message
    } else if (role.upstreamIndex !== undefined) {
      const verdict = checkUpstreamFrame(item.bytes, true, to.peerId as string as PeerIdString, from.peerId as string as PeerIdString)
      if (verdict.ok === false) {
        this.onViolation(`${this.name}: the upstream check refused a frame from ${from.peerId}: ${verdict.reason} ${verdict.detail}`)
        return
      }
      if (verdict.ok === 'ignore') return
      decoded = verdict.message
    } else {
      decoded = cbor.decode(item.bytes)
      if (item.to === this.#deviceSide && isPersistedHeadsFrame(decoded)) {
        // The device's adapter keeps these for the status bar; they must still be well formed.
        const parsed = parsePersistedHeads(decoded)
        if (!parsed.ok) this.onViolation(`${this.name}: a persisted-heads frame the device cannot read: ${parsed.detail}`)
        else to.reportPersisted()
        this.stats.delivered++
        return
      }
    }
    const message = decoded as Message
    if (this.traceDoc && 'documentId' in message && (this.traceDoc.documentId ?? message.documentId) === message.documentId)
      this.traceDoc.log(`${this.name}: ${describe(message)} → ${to.peerId}`, message.documentId as string)
    if (role.upstreamIndex !== undefined) message.senderId = this.#nameFor(item.to)
    this.stats.delivered++
    to.emit('message', message)
  }

  #announce(): void {
    const [a, b] = this.#ends
    if (this.#announced || !this.up || !a?.connected || !b?.connected) return
    this.#announced = true
    this.disturbed = false
    const session = ++this.#session
    if (this.#deviceSide !== undefined) {
      void this.#join(this.#deviceSide, session)
      return
    }
    this.#tell(0, b.peerMetadata ?? {})
    this.#tell(1, a.peerMetadata ?? {})
  }

  /** Lets the repo at `side` hear of the far end. */
  #tell(side: Side, peerMetadata: PeerMetadata): void {
    this.#told[side] = true
    this.#ends[side]?.emit('peer-candidate', { peerId: this.#nameFor(side), peerMetadata })
  }

  #current(session: number): boolean {
    return this.#announced && session === this.#session
  }

  /** The device's join, with its digests, once they are ready (client/sync/websocket-adapter.ts). */
  async #join(side: Side, session: number): Promise<void> {
    const device = this.#ends[side] as SimEnd
    const digests = await Promise.resolve()
      .then(() => device.digestSource?.() ?? [])
      .catch(() => [])
    if (!this.#current(session) || this.#ends[side] !== device) return
    this.#queue.push({ to: other(side), bytes: cbor.encode(joinMessage(device.peerId as PeerId, device.peerMetadata ?? {}, digests)), opening: true })
  }

  /** Delivers the join to the relay or the relay's `peer` to the device. */
  #deliverOpening(item: InFlight, to: SimEnd, from: SimEnd): void {
    this.stats.delivered++
    const session = this.#session
    if (item.to !== this.#deviceSide) {
      const verdict = checkFrame(item.bytes, true, undefined)
      if (!verdict.ok || verdict.message.type !== 'join') {
        this.onViolation(`${this.name}: the relay's frame check refused a join from ${from.peerId}: ${verdict.ok ? verdict.message.type : `${verdict.reason} ${verdict.detail}`}`)
        return
      }
      const requests = parseDigestRequests(verdict.message.peerMetadata.placetteDigest)
      this.#joinDigests = requests.ok ? (requests.requests ?? []) : []
      if (this.#joinDigests.length) this.stats.digests++
      void this.#answer(item.to, verdict.message, session)
      return
    }
    const parsed = parseServerMessage(cbor.decode(item.bytes))
    if (!parsed.ok || parsed.message.type !== 'peer') {
      this.onViolation(`${this.name}: the device cannot read the relay's answer to its join`)
      return
    }
    const { placetteDigest: _answers, ...peerMetadata } = parsed.message.peerMetadata
    for (const answer of Array.isArray(_answers) ? _answers : []) {
      const bundles = parseCatchUp((answer as { catchUp?: unknown } | undefined)?.catchUp)
      if (bundles.ok) this.stats.caughtUp += bundles.documents.length
      else this.onViolation(`${this.name}: the device refused the relay's catch-up bundles: ${bundles.detail}`)
    }
    parseDigestAnswers(_answers).forEach((answer, n) => {
      const buckets = this.#joinDigests[n]?.buckets
      for (let b = 0; answer && buckets && b < DIGEST_BUCKETS; b++)
        if (!(answer.differ & (1 << b)) && buckets.subarray(b * BUCKET_HASH_BYTES, (b + 1) * BUCKET_HASH_BYTES).some((x) => x !== 0)) this.stats.sameBuckets++
    })
    // The digest hears the answer before the repo hears of the relay, as with RelayAdapter.
    to.relayOpened(parsed.message.senderId as string as PeerId, parsed.message.peerMetadata)
    this.#tell(item.to, peerMetadata as PeerMetadata)
  }

  /** The relay answers a join: its digests' answers in `peer`, then its repo hears of the device (ws-server-adapter.ts #join). */
  async #answer(side: Side, join: JoinMessage, session: number): Promise<void> {
    const relay = this.#ends[side] as SimEnd
    const { placetteDigest: _digests, ...peerMetadata } = join.peerMetadata
    const requests = parseDigestRequests(_digests)
    const handler = relay.digestHandler
    const digest = requests.ok && requests.requests?.length && handler ? await handler(join.senderId as string as PeerId, requests.requests, peerMetadata) : undefined
    if (!this.#current(session) || this.#ends[side] !== relay) return
    const peer: PeerMessage = {
      type: 'peer',
      senderId: relay.peerId as string as PeerIdString,
      peerMetadata: {
        ...relay.peerMetadata,
        isEphemeral: false,
        placetteFeatures: [PERSISTED_HEADS_FEATURE],
        ...(digest ? { placetteDigest: digest.answers } : {}),
      } as PeerMessage['peerMetadata'],
      selectedProtocolVersion: PROTOCOL_VERSION,
      targetId: join.senderId,
    }
    this.#queue.push({ to: other(side), bytes: cbor.encode(peer), opening: true })
    this.#tell(side, peerMetadata as PeerMetadata)
    digest?.commit()
  }

  #unannounce(): void {
    this.#queue = []
    if (!this.#announced) return
    this.#announced = false
    for (const side of [0, 1] as const) {
      const end = this.#ends[side]
      if (end && this.#told[side]) end.emit('peer-disconnected', { peerId: this.#nameFor(side) })
    }
    this.#told = [false, false]
  }
}

function describe(message: Message): string {
  if ((message.type === 'sync' || message.type === 'request') && 'data' in message && message.data) {
    const m = A.decodeSyncMessage(message.data)
    const short = (hs: readonly string[]) => hs.map((h) => h.slice(0, 6)).join(',')
    return `${message.type} from ${message.senderId}: heads [${short(m.heads)}] need [${short(m.need)}] have ${m.have.map((h) => `{lastSync [${short(h.lastSync)}]}`).join('')} changes ${m.changes.length}`
  }
  return `${message.type} from ${message.senderId}`
}

/**
 * A relay's device-facing ends as one network adapter, as its WebSocketServerAdapter is: what
 * sync-server/persisted-heads.ts listens to and sends its reports through.
 */
export class SimRelaySockets extends NetworkAdapter {
  constructor(readonly ends: readonly SimEnd[]) {
    super()
    for (const end of ends) {
      end.on('peer-candidate', (event) => this.emit('peer-candidate', event))
      end.on('peer-disconnected', (event) => this.emit('peer-disconnected', event))
      end.on('message', (message) => this.emit('message', message))
    }
  }

  isReady(): boolean {
    return true
  }

  whenReady(): Promise<void> {
    return Promise.resolve()
  }

  connect(): void {}

  disconnect(): void {}

  /** Each end's link carries only what is addressed to its far end. */
  send(message: Message): void {
    for (const end of this.ends) end.send(message)
  }
}
