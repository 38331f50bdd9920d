/**
 * A lightweight automerge-repo peer for load tests: it speaks automerge-repo's WebSocket protocol
 * (join → peer, then `sync` messages per document, CBOR-encoded) with raw Automerge sync states and
 * no Repo, so that a few thousand of them fit in one process next to the server under test.
 *
 * Each peer holds its own copy of each document it writes (a `Slot`) and its own sync state with the
 * server. (Copies must not be shared between peers: a peer would then "have" a change another peer
 * received, and skip the exchange a real device needs to fetch it.)
 *
 * A document the peer only reads can instead be *followed* ({@link RawPeer.follow}): the peer keeps
 * no copy, only the heads it was last sent, and answers each message that brings changes as a device
 * that applied them would (its heads are the server's, nothing needed). The server does the same work
 * for it as for a full peer; the peer does a decode and an encode instead of applying the changes to a
 * document of its own and running a sync state, which lets a few thousand of them share a core.
 */
import * as A from '@automerge/automerge'
import { cbor } from '@automerge/automerge-repo'
import WebSocket from 'ws'

export interface Slot {
  doc: A.Doc<unknown>
}

export interface RawPeerOptions {
  url: string
  peerId: string
  /** Present on devices with storage (all real app clients). */
  storageId?: string
  /** Called for every sync message that carries changes, before it is applied (latency probes). */
  onChanges?: (documentId: string, heads: readonly string[], now: number) => void
  /** Called for every sync message received (after it is applied). */
  onSync?: (documentId: string, heads: readonly string[]) => void
  /** Called when the socket closes, whoever closed it. */
  onClose?: () => void
}

interface Entry {
  slot: Slot
  state: A.SyncState
}

/** An acknowledgement's `have`: the heads just received as the last sync, no change of our own since. */
const NOTHING_SINCE = new Uint8Array(0)

/** What a device that holds `heads` and nothing else says: send me whatever comes after them. */
function acknowledgement(heads: readonly string[]): Uint8Array {
  return A.encodeSyncMessage({ heads: [...heads], need: [], have: [{ lastSync: [...heads], bloom: NOTHING_SINCE }], changes: [] })
}

const sameHeads = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((h) => b.includes(h))

/**
 * What a device holding a document sends first about it, made once from that document and reused by
 * every peer that {@link RawPeer.follow}s a copy of it.
 */
export function openingMessage(doc: A.Doc<unknown>): Uint8Array {
  const [, message] = A.generateSyncMessage(doc, A.initSyncState())
  if (!message) throw new Error('a document always has an opening sync message')
  return message
}

export class RawPeer {
  readonly #options: RawPeerOptions
  readonly #docs = new Map<string, Entry>()
  /** Followed documents: the heads this peer holds (as far as the server is concerned). */
  readonly #followed = new Map<string, { heads: readonly string[] }>()
  #socket: WebSocket | undefined
  #server: string | undefined
  received = 0
  sent = 0
  errors = 0
  /** How the last socket ended (a busy relay closes with 4503 and says when to come back). */
  lastClose: { code: number; reason: string } | undefined
  /** Documents added whose first answer from the server has not come yet. */
  readonly awaiting = new Set<string>()

  constructor(options: RawPeerOptions) {
    this.#options = options
  }

  get connected(): boolean {
    return this.#server !== undefined && this.#socket?.readyState === WebSocket.OPEN
  }

  /** Opens the socket and completes the join handshake. */
  connect(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      // Compressing every message, as a browser does (devices.ts `BrowserLikeWebSocket`).
      const socket = new WebSocket(this.#options.url, { perMessageDeflate: { threshold: 0 } })
      this.#socket = socket
      socket.binaryType = 'nodebuffer'
      const timer = setTimeout(() => {
        socket.terminate()
        reject(new Error(`${this.#options.peerId}: no peer message after ${timeoutMs} ms`))
      }, timeoutMs)
      socket.on('open', () => {
        this.#send({
          type: 'join',
          senderId: this.#options.peerId,
          peerMetadata: this.#options.storageId ? { storageId: this.#options.storageId, isEphemeral: false } : { isEphemeral: true },
          supportedProtocolVersions: ['1'],
        })
      })
      socket.on('message', (data: Buffer) => {
        let message: { type?: string; senderId?: string; documentId?: string; data?: Uint8Array }
        try {
          message = cbor.decode(data) as typeof message
        } catch {
          this.errors++
          return
        }
        if (message.type === 'peer') {
          this.#server = message.senderId
          clearTimeout(timer)
          resolve()
        } else if (message.type === 'sync' && message.documentId && message.data) {
          this.received++
          this.#receive(message.documentId, message.data)
        } else if (message.type === 'error') this.errors++
      })
      socket.on('error', () => {
        this.errors++
      })
      socket.on('close', (code, reason) => {
        this.lastClose = { code, reason: reason.toString('utf8') }
        this.#server = undefined
        clearTimeout(timer)
        reject(new Error(`${this.#options.peerId}: socket closed`))
        this.#options.onClose?.()
      })
    })
  }

  /** Starts syncing a document held in `slot` with the server. */
  add(documentId: string, slot: Slot): void {
    this.#docs.set(documentId, { slot, state: A.initSyncState() })
    this.awaiting.add(documentId)
    this.sync(documentId)
  }

  /**
   * Follows a document the peer holds as of `opening` (see {@link openingMessage}) without keeping a
   * copy: every change the server sends is acknowledged as applied. Call it once connected.
   */
  follow(documentId: string, opening: Uint8Array): void {
    this.#followed.set(documentId, { heads: A.decodeSyncMessage(opening).heads })
    this.awaiting.add(documentId)
    if (this.connected) this.#sendSync(documentId, opening)
  }

  /** Changes a document this peer writes and sends the change; returns the new heads. */
  change(documentId: string, fn: A.ChangeFn<unknown>): readonly string[] {
    const entry = this.#docs.get(documentId)
    if (!entry) throw new Error(`unknown document ${documentId}`)
    entry.slot.doc = A.change(entry.slot.doc, fn)
    this.sync(documentId)
    return A.getHeads(entry.slot.doc)
  }

  /** Sends whatever the server lacks of `documentId`, if anything. */
  sync(documentId: string): void {
    const entry = this.#docs.get(documentId)
    if (!entry || !this.connected) return
    const [state, message] = A.generateSyncMessage(entry.slot.doc, entry.state)
    entry.state = state
    if (message) this.#sendSync(documentId, message)
  }

  heads(documentId: string): readonly string[] {
    const entry = this.#docs.get(documentId)
    return entry ? A.getHeads(entry.slot.doc) : (this.#followed.get(documentId)?.heads ?? [])
  }

  close(): void {
    this.#socket?.close()
    this.#socket = undefined
  }

  terminate(): void {
    this.#socket?.terminate()
    this.#socket = undefined
  }

  #receive(documentId: string, data: Uint8Array): void {
    const entry = this.#docs.get(documentId)
    if (!entry) return this.#receiveFollowed(documentId, data)
    this.awaiting.delete(documentId)
    const decoded = A.decodeSyncMessage(data)
    if (decoded.changes.length && this.#options.onChanges) this.#options.onChanges(documentId, decoded.heads, performance.now())
    const [doc, state] = A.receiveSyncMessage(entry.slot.doc, entry.state, data)
    entry.slot.doc = doc
    entry.state = state
    this.sync(documentId)
    this.#options.onSync?.(documentId, decoded.heads)
  }

  /**
   * A followed document: changes are taken as applied (the server's heads become ours) and
   * acknowledged. A message without changes announcing other heads (the server's first word after a
   * change, before it knows where this peer stands) is answered with our heads, as a device answers
   * it, so that the server sends what follows them. One announcing no heads (the server does not have
   * the document yet) waits for the document's writer to bring it.
   */
  #receiveFollowed(documentId: string, data: Uint8Array): void {
    const followed = this.#followed.get(documentId)
    if (!followed) return
    this.awaiting.delete(documentId)
    const decoded = A.decodeSyncMessage(data)
    if (decoded.changes.length) {
      this.#options.onChanges?.(documentId, decoded.heads, performance.now())
      followed.heads = decoded.heads
      this.#sendSync(documentId, acknowledgement(decoded.heads))
    } else if (decoded.heads.length && !sameHeads(decoded.heads, followed.heads)) {
      this.#sendSync(documentId, acknowledgement(followed.heads))
    }
    this.#options.onSync?.(documentId, decoded.heads)
  }

  #sendSync(documentId: string, data: Uint8Array): void {
    this.sent++
    this.#send({ type: 'sync', senderId: this.#options.peerId, targetId: this.#server, documentId, data })
  }

  #send(message: object): void {
    this.#socket?.send(cbor.encode(message))
  }
}
