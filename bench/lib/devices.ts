/**
 * Devices for the three systems under comparison, in Node, logging every sync message they exchange:
 * - `placette`: the app's own sync stack, `createClientSync` (client/sync/repo.ts) over `ws`, with a
 *   fake `window` that says when the device goes offline and back online;
 * - `stock`: automerge-repo's Repo with the stock `WebSocketClientAdapter` (default 5 s retry);
 * - `yjs`: a Y.Doc with y-websocket's `WebsocketProvider`.
 * Devices keep their documents in memory (with a memory storage where the app has IndexedDB).
 */
import * as A from '@automerge/automerge'
import { cbor, Repo, type DocHandle, type DocumentId, type Message, type NetworkAdapter, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createClientSync } from '../../client/sync/repo.ts'
import { parseCatchUp } from '../../shared/catch-up.ts'

export type System = 'placette' | 'stock' | 'yjs'
export type AmSystem = Exclude<System, 'yjs'>
export const SYSTEM_NAMES: Record<System, string> = {
  placette: 'Placette',
  stock: 'stock automerge-repo',
  yjs: 'Yjs + y-websocket',
}

/** One sync message as the device saw it. */
export interface Logged {
  t: number
  dir: 'up' | 'down'
  /** Document ID (automerge-repo) or the room (Yjs). */
  doc: string
  /** Message type: automerge-repo's (`sync`, `request`…) or y-protocols' (`sync-step1`, `awareness`…). */
  type: string
  /** automerge-repo: the message as CBOR, before WebSocket framing and compression. */
  bytes?: number
  /** Of those, an Automerge sync message's parts: the changes it carries, and their bytes. */
  changes?: number
  changeBytes?: number
  /** Its Bloom filters ("have") and heads, in bytes. */
  bloomBytes?: number
  headsBytes?: number
  /** The changes themselves. */
  changeData?: Uint8Array[]
}

/** Stands in for `window`: the device's idea of whether it is online, and its `online`/`offline` events. */
class FakeWindow extends EventTarget {
  navigator = { onLine: true }
  set(online: boolean) {
    this.navigator.onLine = online
    this.dispatchEvent(new Event(online ? 'online' : 'offline'))
  }
}

export interface AmDevice {
  system: AmSystem
  repo: Repo
  log: Logged[]
  /** The OS says the network is gone / back (the Placette client listens; the stock one cannot). */
  setOnline(online: boolean): void
  /** Imports saved documents under their IDs, as if the device had them in its storage. */
  importDocs(docs: ReadonlyMap<string, Uint8Array>): Map<string, DocHandle<unknown>>
  /** True when the server is known to hold this handle's current heads. */
  serverHas(handle: DocHandle<unknown>): boolean
  close(): Promise<void>
}

/** Logs what goes through a network adapter, without changing what it does. */
function logAdapter(adapter: NetworkAdapter, log: Logged[]): void {
  const entry = (dir: 'up' | 'down', message: Message): Logged => {
    const logged: Logged = { t: performance.now(), dir, doc: String((message as { documentId?: string }).documentId ?? ''), type: message.type }
    const data = (message as { data?: Uint8Array }).data
    logged.bytes = cbor.encode(message).byteLength
    if ((message.type === 'sync' || message.type === 'request') && data) {
      const decoded = A.decodeSyncMessage(data)
      logged.changes = decoded.changes.length
      logged.changeBytes = decoded.changes.reduce((n, c) => n + c.byteLength, 0)
      logged.changeData = decoded.changes
      logged.bloomBytes = decoded.have.reduce((n, h) => n + h.bloom.byteLength + h.lastSync.length * 32, 0)
      logged.headsBytes = (decoded.heads.length + decoded.need.length) * 32
    }
    return logged
  }
  const send = adapter.send.bind(adapter)
  adapter.send = (message: Message) => {
    log.push(entry('up', message))
    send(message)
  }
  adapter.on('message', (message: Message) => log.push(entry('down', message)))
}

/**
 * `ws` as a browser's WebSocket compresses: Chromium deflates every message once permessage-deflate is
 * negotiated, whatever its size, while `ws` skips those under 1 KB when the server asks for no context
 * takeover (as the Placette relay does, sync-server/network/ws-server-adapter.ts `COMPRESSION`).
 */
export class BrowserLikeWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols, { perMessageDeflate: { threshold: 0 } })
  }
}

export function amDevice(system: AmSystem, url: string, options: { storage?: StorageAdapterInterface } = {}): AmDevice {
  const log: Logged[] = []
  const window = new FakeWindow()
  let repo: Repo
  let adapter: NetworkAdapter
  /** Placette: the heads the relay reported on its disk (persisted-heads, or the heads digest's answer). */
  const persisted = new Map<string, string[]>()
  if (system === 'placette') {
    const sync = createClientSync({ relayUrl: url, WebSocket: BrowserLikeWebSocket as never, events: window as never, storage: options.storage })
    repo = sync.repo
    adapter = sync.relay
    // Catch-up bundles (shared/catch-up.ts) ride in the relay's answer to the join: each document's as one entry.
    sync.relay.onRelayOpen((_relay, metadata) => {
      const answers = (metadata as { placetteDigest?: unknown } | undefined)?.placetteDigest
      for (const answer of Array.isArray(answers) ? answers : []) {
        const bundles = parseCatchUp((answer as { catchUp?: unknown } | undefined)?.catchUp)
        for (const bundle of bundles.ok ? bundles.documents : [])
          log.push({ t: performance.now(), dir: 'down', doc: '', type: 'placette-catch-up', bytes: cbor.encode(bundle).byteLength, changeBytes: bundle.changes.byteLength, changeData: [bundle.changes] })
      }
    })
    sync.relay.onPersistedHeads((documentId, heads, via) => {
      persisted.set(documentId, heads)
      if (via === 'digest') return
      // Placette's own message beside automerge-repo's: its size as sent.
      const message = { type: 'placette-persisted-heads', senderId: sync.relay.connection.state === 'open' ? sync.relay.connection.relayPeerId : '', targetId: repo.peerId, documentId, heads }
      log.push({ t: performance.now(), dir: 'down', doc: documentId, type: message.type, bytes: cbor.encode(message).byteLength })
    })
  } else {
    const stock = new WebSocketClientAdapter(url)
    adapter = stock
    repo = new Repo({ network: [stock], storage: options.storage })
  }
  logAdapter(adapter, log)
  let closed: Promise<void> | undefined
  return {
    system,
    repo,
    log,
    setOnline: (online) => window.set(online),
    importDocs: (docs) => {
      const handles = new Map<string, DocHandle<unknown>>()
      for (const [id, bin] of docs) handles.set(id, repo.import<unknown>(bin, { docId: id as DocumentId }))
      return handles
    },
    serverHas: (handle) => {
      const server = repo.peers[0]
      const storageId = server && repo.getStorageIdOfPeer(server)
      const known = storageId && handle.getSyncInfo(storageId)?.lastHeads
      if (known && sameHeads(known, handle.heads())) return true
      // A document the heads digest found unchanged runs no sync exchange: the relay's word is its answer.
      const written = persisted.get(handle.documentId)
      return !!written && handle.isReady() && sameHeads(written, A.getHeads(handle.doc() as A.Doc<unknown>))
    },
    close: () =>
      (closed ??= (async () => {
        await repo.flush().catch(() => undefined)
        await repo.shutdown().catch(() => undefined)
      })()),
  }
}

const sameHeads = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((h) => b.includes(h))

/** True when the handle's document contains every head in `heads` (hex). */
export function hasHeads(handle: DocHandle<unknown>, heads: readonly string[]): boolean {
  return handle.isReady() && A.hasHeads(handle.doc() as A.Doc<unknown>, [...heads])
}

// ---------------------------------------------------------------------------------------------------
// Yjs

export interface YDevice {
  doc: Y.Doc
  provider: WebsocketProvider
  log: Logged[]
  close(): void
}

const Y_TYPES: Record<number, string> = { 0: 'sync', 1: 'awareness', 2: 'auth', 3: 'query-awareness' }
const Y_SYNC: Record<number, string> = { 0: 'sync-step1', 1: 'sync-step2', 2: 'update' }

function yType(data: Uint8Array): string {
  const type = Y_TYPES[data[0] ?? -1] ?? `type-${data[0]}`
  return type === 'sync' ? (Y_SYNC[data[1] ?? -1] ?? 'sync') : type
}

const toBytes = (data: unknown): Uint8Array =>
  data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array()

/** A `ws` WebSocket that logs the y-websocket messages it carries. */
function loggingWebSocket(log: Logged[], room: string): typeof WebSocket {
  return class LoggingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      this.addEventListener('message', (event) => log.push({ t: performance.now(), dir: 'down', doc: room, type: yType(toBytes(event.data)) }))
    }
    override send(data: unknown, ...rest: unknown[]): void {
      log.push({ t: performance.now(), dir: 'up', doc: room, type: yType(toBytes(data)) })
      ;(WebSocket.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest)
    }
  } as unknown as typeof WebSocket
}

/** A Yjs device on `room`, starting from `state` (an update) if given. */
export function yDevice(serverUrl: string, room: string, state?: Uint8Array): YDevice {
  const doc = new Y.Doc()
  if (state) Y.applyUpdate(doc, state)
  const log: Logged[] = []
  const provider = new WebsocketProvider(serverUrl, room, doc, {
    WebSocketPolyfill: loggingWebSocket(log, room) as never,
    disableBc: true,
  })
  return {
    doc,
    provider,
    log,
    close: () => {
      provider.destroy()
      doc.destroy()
    },
  }
}

// ---------------------------------------------------------------------------------------------------
// Round trips

/**
 * Request/response exchanges in a message log: per document, the number of runs of messages the
 * device sent that the server answered (y-websocket's server-initiated step 1/step 2 runs in parallel
 * with the device's own and is left out); documents sync in parallel, so the exchange count is the
 * largest over documents, plus the join/peer handshake when the protocol has one. Opening the
 * socket (TCP, then the HTTP upgrade) costs two more round trips on every system, not counted here.
 */
export function roundTrips(log: readonly Logged[], handshake: boolean): number {
  const byDoc = new Map<string, ('up' | 'down')[]>()
  for (const m of log) {
    if (m.type === 'awareness' || m.type === 'query-awareness' || m.type === 'ephemeral') continue
    // y-websocket's server opens its own exchange at once (its step 1, our step 2), in parallel with ours.
    if ((m.type === 'sync-step1' && m.dir === 'down') || (m.type === 'sync-step2' && m.dir === 'up')) continue
    let dirs = byDoc.get(m.doc)
    if (!dirs) byDoc.set(m.doc, (dirs = []))
    if (dirs[dirs.length - 1] !== m.dir) dirs.push(m.dir)
  }
  let most = 0
  for (const dirs of byDoc.values()) {
    let exchanges = 0
    for (let i = 0; i + 1 < dirs.length; i++) if (dirs[i] === 'up' && dirs[i + 1] === 'down') exchanges++
    most = Math.max(most, exchanges)
  }
  return most + (handshake ? 1 : 0)
}

/**
 * Resolves when every handle holds its expected heads. Checks a document only when it changes (polling
 * hundreds of documents every few milliseconds would slow down the very device being measured).
 */
export function whenAllHeads(handles: ReadonlyMap<string, DocHandle<unknown>>, heads: ReadonlyMap<string, readonly string[]>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending = new Set<string>()
    const listeners: (() => void)[] = []
    const finish = (err?: Error) => {
      clearTimeout(timer)
      for (const off of listeners) off()
      if (err) reject(err)
      else resolve()
    }
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms: ${pending.size} documents still behind`)), timeoutMs)
    for (const [id, handle] of handles) {
      const want = heads.get(id) ?? []
      if (hasHeads(handle, want)) continue
      pending.add(id)
      const onChange = () => {
        if (!pending.has(id) || !hasHeads(handle, want)) return
        pending.delete(id)
        if (!pending.size) finish()
      }
      handle.on('change', onChange)
      listeners.push(() => handle.off('change', onChange))
    }
    if (!pending.size) finish()
  })
}
