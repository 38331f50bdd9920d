/**
 * The relay: one HTTP port that carries the sync WebSocket (`/sync`), `/healthz`, `/metrics` and the
 * PWA, in front of an automerge-repo `Repo` that stores documents durably and serves a document only
 * to a peer that asks for it by ID. With `--upstream`, it also peers with other relays (peering.ts).
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { Repo, type DocumentId, type PeerId } from '@automerge/automerge-repo'
import { SYNC_DEBOUNCE_MS, SYNC_PATH } from '../shared/protocol.ts'
import type { RelayConfig } from './config.ts'
import { createHealthHandler, createMetricsHandler } from './http/ops.ts'
import { createStaticHandler } from './http/static.ts'
import { createLogger, type Logger } from './log.ts'
import { RelayMetrics } from './metrics.ts'
import { UpstreamAdapter, type UpstreamStatus } from './network/upstream-adapter.ts'
import { WsServerAdapter } from './network/ws-server-adapter.ts'
import { isUpstreamPeer, RelaySharing, UpstreamHosting } from './peering.ts'
import { AUTH_CHALLENGE_PATH } from '../shared/relay-auth.ts'
import { encodeKey } from '../shared/identity.ts'
import { Challenges } from './access/challenges.ts'
import { Gate } from './access/gate.ts'
import { createGatekeeper, loadRelayKeys, relaySignIn } from './access/sign-in.ts'
import { receiveSyncFromSyncingPeersDirectly } from './receive-fast-path.ts'
import { PERSISTED_HEADS_FEATURE } from '../shared/persisted-heads.ts'
import { CATCH_UP_FEATURE } from '../shared/catch-up.ts'
import { reportPersistedHeads } from './persisted-heads.ts'
import { DigestResponder } from './heads-digest.ts'
import { DocumentEvictor } from './eviction.ts'
import { FileStorage } from './storage/file-storage.ts'
import { managedStorage } from './storage/managed-storage.ts'
import { cacheSyncStates } from './storage/sync-state-cache.ts'
import { listFileStorageFirstParts } from './storage/stored-documents.ts'
import { Admission, heapInUse, type BusyCause } from './admission.ts'
import { getHeapStatistics } from 'node:v8'

const round2 = (x: number) => Math.round(x * 100) / 100

export interface RelayAddress {
  port: number
  host: string
  /** `http://host:port`, with a wildcard host shown as `localhost`. */
  url: string
  /** `ws://host:port/sync`, what a client connects to. */
  wsUrl: string
}

/** What the relay reports on /healthz (and uses for /metrics). */
export interface RelayStats {
  peers: number
  /** Documents in memory now. */
  documents: number
  /** Documents evicted from memory since start (sync-server/eviction.ts). */
  documentsEvicted: number
  uptimeSeconds: number
  /** One entry per `--upstream`, in order; absent on a relay without upstreams. */
  upstreams?: UpstreamStatus[]
  /** Mean event-loop utilization (0–1) over the last seconds (sync-server/admission.ts). */
  eventLoopUtilization: number
  /** Share (0–1) of V8's heap limit in use, lowest over the last seconds (sync-server/admission.ts). */
  heapUse: number
  /** True while the relay is saturated and tells new sockets to come back later. */
  busy: boolean
  /** Why, while busy: its thread (`cpu`) or its heap near the limit (`memory`). */
  busyCause?: BusyCause
}

export interface Relay {
  /** Resolves once the data folder exists and the port is listening; rejects if either fails. */
  readonly ready: Promise<void>
  /** Where the relay listens; throws before `ready` resolves. */
  address(): RelayAddress
  stats(): RelayStats
  /**
   * Stops accepting, closes every socket with 1001, writes every document to disk and closes the
   * port. Safe to call twice.
   */
  close(): Promise<void>
}

export interface RelayDeps {
  /** Defaults to JSON lines on stdout at `config.logLevel`. */
  log?: Logger
  /** Ping period of the WebSocket keepalive, in ms (tests shorten it). */
  keepAliveMs?: number
  /** Retry delays towards upstream relays, in ms (tests shorten them); see `UPSTREAM_BACKOFF_MS`. */
  upstreamBackoffMs?: readonly number[]
  /** Decides whether new sockets are taken; default: from `config.busyUtilization`, sampling this process. */
  admission?: Admission
}

/**
 * Starts a relay. Returns at once; await `relay.ready` before using `address()`.
 *
 * @example
 * const relay = createRelay(parseConfig(process.argv.slice(2), process.env))
 * await relay.ready
 * console.log(relay.address().url)
 */
export function createRelay(config: RelayConfig, deps: RelayDeps = {}): Relay {
  const log = deps.log ?? createLogger({ level: config.logLevel })
  const started = performance.now()
  const metrics = new RelayMetrics()
  // Sync states are a cache: kept in memory and written in the background (sync-state-cache.ts).
  const storage = cacheSyncStates(managedStorage(new FileStorage(config.dataDir, { log }), (s, failed) => metrics.observeStorageWrite(s, failed), log))
  const challenges = new Challenges()
  const gate = config.access === 'members' ? new Gate({ log, storage }) : undefined
  const gatekeeper = gate && createGatekeeper({ gate, challenges, trustRelays: config.trustRelays, allowOrigins: config.allowOrigins, log })
  // Saturated, or its heap near the limit V8 would end it at, the relay turns newcomers away rather
  // than take work it cannot do (admission.ts).
  const admission =
    deps.admission ??
    (config.busyUtilization > 0 || config.busyHeap > 0
      ? new Admission({ busyAbove: config.busyUtilization > 0 ? config.busyUtilization / 100 : Infinity, heapBusyAbove: config.busyHeap / 100 })
      : undefined)
  const network = new WsServerAdapter({
    maxFrameBytes: config.maxFrameBytes,
    log,
    metrics,
    keepAliveMs: deps.keepAliveMs,
    gatekeeper,
    features: [PERSISTED_HEADS_FEATURE, CATCH_UP_FEATURE],
    admission,
    // A joined member gets a ticket for its next sign-in (access/challenges.ts); a relay peering
    // upstream reconnects rarely and asks for challenges. An open relay checks no sign-in, but the app
    // signs in all the same: a plain challenge spares it the request.
    tickets: (session) => (session ? (session.trusted ? undefined : challenges.issueTicket(session.id)) : gatekeeper ? undefined : challenges.issue()),
  })
  gate?.on('cut-off', (member, why) => network.cutOff(member, why))
  // Made on first start, kept with the documents: what this relay signs in to its upstreams with.
  const relayKeys = mkdir(config.dataDir, { recursive: true }).then(() => loadRelayKeys(storage, log))
  relayKeys.catch(() => undefined)
  const upstreams = config.upstreams.map(
    (url, index) =>
      new UpstreamAdapter({
        url,
        index,
        log,
        maxFrameBytes: config.maxFrameBytes,
        backoffMs: deps.upstreamBackoffMs,
        keepAliveMs: deps.keepAliveMs,
        signIn: async (u, peer) => relaySignIn(await relayKeys)(u, peer),
      }),
  )
  const sharing = new RelaySharing()
  const repo = new Repo({
    peerId: `relay-${randomBytes(6).toString('hex')}` as PeerId,
    storage,
    network: [network, ...upstreams],
    syncDebounceRate: SYNC_DEBOUNCE_MS,
    // A client gets a document only by asking for its ID, and only if the gate lets it see it;
    // upstream relays get every hosted document.
    shareConfig: {
      announce: sharing.shareConfig.announce,
      access: async (peer, doc) => isUpstreamPeer(peer) || !gate || (doc !== undefined && (await gate.mayRead(peer, doc))),
    },
  })
  const stopGate = gate?.attach(repo)
  gate?.on('access-changed', (docs) => void offerAgain(repo, gate, sharing, docs))
  gate?.on('erase', (docs) => {
    for (const doc of docs) {
      repo.delete(doc as DocumentId)
      log.info('feed of a departed member erased', { doc })
    }
  })
  const stopSharing = sharing.attach(repo)
  // Inbound sync messages skip automerge-repo's scan of every connected peer (receive-fast-path.ts).
  const stopFastPath = receiveSyncFromSyncingPeersDirectly(repo, { announcesTo: isUpstreamPeer })
  // "Synced" on a client means on this relay's disk (sync-server/persisted-heads.ts).
  const persisted = reportPersistedHeads(repo, network, log)
  // A reconnect that finds nothing new costs one digest and its answer (sync-server/heads-digest.ts).
  const digests = new DigestResponder({
    repo,
    mayRead: gate && ((peer, doc) => gate.mayRead(peer, doc)),
    persisted,
    log,
  })
  network.answerDigestsWith((peer, requests, peerMetadata) => digests.answer(peer, requests, peerMetadata))
  const hosting = upstreams.length
    ? new UpstreamHosting({ repo, listStoredDocuments: () => listFileStorageFirstParts(config.dataDir), log })
    : undefined
  hosting?.start()
  // Idle documents leave memory once written, and come back when asked for (sync-server/eviction.ts).
  const evictor = new DocumentEvictor({ repo, persisted, log, policy: { idleMs: config.evictIdleMs, maxInMemory: config.maxDocumentsInMemory } })
  evictor.start()
  if (!deps.admission) admission?.start()
  admission?.onChange(({ busy, cause, utilization, heapUse }) => {
    const figures = { eventLoopUtilization: round2(utilization), heapUse: round2(heapUse), heapLimitMB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20), peers: network.peerCount, refusedSoFar: admission.refused }
    if (!busy) log.info('relay has room again: taking new sockets', figures)
    else if (cause === 'memory') log.warn('relay memory nearly full: new sockets are told to come back later', figures)
    else log.warn('relay saturated: new sockets are told to come back later', figures)
  })

  const stats = (): RelayStats => ({
    peers: network.peerCount,
    documents: Object.keys(repo.handles).length,
    documentsEvicted: evictor.evicted,
    uptimeSeconds: Math.round((performance.now() - started) / 1000),
    ...(upstreams.length ? { upstreams: upstreams.map((u) => u.status) } : {}),
    eventLoopUtilization: Math.round((admission?.utilization ?? 0) * 1000) / 1000,
    heapUse: Math.round((admission?.heapUse ?? heapInUse()) * 1000) / 1000,
    busy: admission?.busy ?? false,
    ...(admission?.cause ? { busyCause: admission.cause } : {}),
  })
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>> = {
    '/healthz': createHealthHandler(stats),
    '/metrics': createMetricsHandler(metrics, stats),
    [AUTH_CHALLENGE_PATH]: (_req, res) => {
      // Not secret, and fetched by pages of allowed origins too: open to any site.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Access-Control-Allow-Origin': '*' })
      res.end(JSON.stringify({ challenge: challenges.issue() }))
    },
  }
  const serveStatic = createStaticHandler({ root: config.staticDir, log })
  let closing = false
  let listening: RelayAddress | undefined

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string
    const handler = routes[path] ?? serveStatic
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      log.error('request failed', { path: path.slice(0, 200), err })
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end()
    })
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const path = (req.url ?? '').split('?')[0]
    if (path !== SYNC_PATH || closing) {
      socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    network.handleUpgrade(req, socket, head)
  })
  server.on('clientError', (_err, socket) => socket.destroy())

  const ready = (async () => {
    await mkdir(config.dataDir, { recursive: true })
    await network.whenReady()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => {
        server.off('error', reject)
        // After listening, an error (e.g. out of file descriptors on accept) is logged, not fatal.
        server.on('error', (err) => log.error('http server error', { err }))
        resolve()
      })
    })
    const { port } = server.address() as AddressInfo
    const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
    listening = { port, host: config.host, url: `http://${shown}:${port}`, wsUrl: `ws://${shown}:${port}${SYNC_PATH}` }
    log.info('relay listening', {
      ...listening,
      access: config.access,
      relayKey: encodeKey((await relayKeys).publicKey),
      dataDir: config.dataDir,
      staticDir: config.staticDir,
      peerId: repo.peerId,
      upstreams: upstreams.map((u) => u.status.url),
      heapLimitMB: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    })
  })()

  let closed: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true
      log.info('relay closing')
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      await network.closeAll()
      // Upstreams too, before saving, so nothing arrives after the last write.
      hosting?.stop()
      evictor.stop()
      admission?.stop()
      stopFastPath()
      persisted.stop()
      digests.stop()
      stopSharing()
      stopGate?.()
      for (const upstream of upstreams) upstream.disconnect()
      await flushReadyDocuments(repo, log)
      // shutdown() flushes every handle again and throws on one that never loaded; all are saved above.
      await repo.shutdown().catch(() => undefined)
      await storage.close()
      server.closeAllConnections()
      if (server.listening) await serverClosed
      log.info('relay closed')
    })())

  return {
    ready,
    address: () => {
      if (!listening) throw new Error('relay is not listening yet: await relay.ready')
      return listening
    },
    stats,
    close,
  }
}

/**
 * Starts syncing `docs` with every client that asked for them and may now read them (automerge-repo
 * answered "unavailable" before, and only re-evaluates on its own for every document and peer at once).
 */
async function offerAgain(repo: Repo, gate: Gate, sharing: RelaySharing, docs: string[]): Promise<void> {
  for (const docId of docs) {
    const waiting = (gate.peers() as PeerId[]).filter((peer) => sharing.asked(peer, docId as DocumentId))
    if (waiting.length === 0) continue
    // Evicted from memory since it was asked for (eviction.ts): loaded again for those who wait.
    if (!repo.synchronizer.docSynchronizers[docId as DocumentId]) await repo.find(docId as DocumentId, { allowableStates: ['ready', 'unavailable'] }).catch(() => undefined)
    const synchronizer = repo.synchronizer.docSynchronizers[docId as DocumentId]
    if (!synchronizer) continue
    for (const peer of waiting) {
      if (synchronizer.hasPeer(peer)) continue
      if (await gate.mayRead(peer, docId)) void synchronizer.beginSync([peer])
    }
  }
}

/** Saves every loaded document. `repo.flush()` alone throws on a handle that is still unavailable. */
async function flushReadyDocuments(repo: Repo, log: Logger): Promise<void> {
  const ready = Object.values(repo.handles)
    .filter((h) => h.isReady())
    .map((h) => h.documentId as DocumentId)
  try {
    await repo.flush(ready)
  } catch (err) {
    log.error('could not save every document on shutdown', { err })
  }
}
