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
 */
import { next as A } from '@automerge/automerge'
import { cbor, NetworkAdapter, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import type { PeerIdString } from '../../shared/protocol.ts'
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
}

export interface LinkStats {
  sent: number
  delivered: number
  dropped: number
  duplicated: number
}

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
}

export class SimLink {
  up = true
  faults: Faults = NO_FAULTS
  /** Debugging: every message for this document delivered on this link is described here. */
  traceDoc?: { documentId?: string; log: (line: string, documentId: string) => void }
  readonly stats: LinkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 }
  /**
   * Whether the link lost, duplicated or reordered a message since it was last (re)connected: only
   * then does sync need the link re-established to make progress (a reliable, ordered link does not).
   */
  disturbed = false
  readonly #ends: [SimEnd | undefined, SimEnd | undefined] = [undefined, undefined]
  #queue: InFlight[] = []
  #announced = false

  /**
   * @param onViolation called when a relay's frame check refuses a frame real peers sent: a bug.
   */
  constructor(
    readonly name: string,
    readonly roles: readonly [EndRole, EndRole],
    readonly onViolation: (detail: string) => void,
  ) {}

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
    const index = this.faults.reorder > 0 && rng.chance(this.faults.reorder) ? rng.int(0, this.#queue.length - 1) : 0
    const [item] = this.#queue.splice(index, 1) as [InFlight]
    if (index > 0) this.disturbed = true
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
    if (!this.#announced || this.#ends[from.side] !== from || !to) return
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
    } else decoded = cbor.decode(item.bytes)
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
    a.emit('peer-candidate', { peerId: this.#nameFor(0), peerMetadata: b.peerMetadata ?? {} })
    b.emit('peer-candidate', { peerId: this.#nameFor(1), peerMetadata: a.peerMetadata ?? {} })
  }

  #unannounce(): void {
    this.#queue = []
    if (!this.#announced) return
    this.#announced = false
    for (const side of [0, 1] as const) {
      const end = this.#ends[side]
      if (end) end.emit('peer-disconnected', { peerId: this.#nameFor(side) })
    }
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
