import { Repo, type DocumentId, type NetworkAdapterInterface, type PeerId, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { BroadcastChannelNetworkAdapter } from '@automerge/automerge-repo-network-broadcastchannel'
import { randomId } from '../../shared/ids.ts'
import { SYNC_DEBOUNCE_MS } from '../../shared/protocol.ts'
import { RelayAdapter, type RelayAdapterOptions } from './websocket-adapter.ts'
import { HeadsDigestClient, type CatchUpReport, type DigestRelay } from './heads-digest.ts'

export interface ClientSyncOptions {
  /** `ws://host:port/sync`; the app derives it from its own address. */
  relayUrl: string
  /** IndexedDB in the browser; none in Node tests (the documents then live in memory only). */
  storage?: StorageAdapterInterface
  /** BroadcastChannel between tabs of one browser; off in Node. */
  broadcast?: boolean
  WebSocket?: RelayAdapterOptions['WebSocket']
  events?: RelayAdapterOptions['events']
  /** Signs each connection in (client/sync/sign-in.ts); absent for an open relay. */
  signIn?: RelayAdapterOptions['signIn']
  /** Keeps the relay's sign-in ticket across restarts (client/sync/sign-in.ts `relayTickets`). */
  tickets?: RelayAdapterOptions['tickets']
  /** Hears what each relay answer's catch-up bundles did (client/sync/heads-digest.ts). */
  onCatchUp?: (report: CatchUpReport) => void
}

export interface ClientSync {
  repo: Repo
  relay: RelayAdapter
  /** Keeps a document syncing with the relay on every connection (client/sync/heads-digest.ts `keepSyncing`). */
  keepSyncing(documentId: DocumentId): () => void
  close(): Promise<void>
}

/**
 * The device's automerge-repo: documents in local storage (IndexedDB in the browser), synced with the
 * relay over WebSocket and with the browser's other tabs over BroadcastChannel. A client shares every
 * document it holds with the peers it meets; the relay decides what it serves.
 */
export function createClientSync(options: ClientSyncOptions): ClientSync {
  const relay = new RelayAdapter({ url: options.relayUrl, WebSocket: options.WebSocket, events: options.events, signIn: options.signIn, tickets: options.tickets })
  const network = options.broadcast ? [relay, new BroadcastChannelNetworkAdapter({ channelName: 'placette' })] : [relay]
  const { repo, keepSyncing } = createDeviceRepo({ storage: options.storage, relay, network, onCatchUp: options.onCatchUp })
  return {
    repo,
    relay,
    keepSyncing,
    async close() {
      await repo.flush()
      await repo.shutdown()
    },
  }
}

export interface DeviceRepoOptions {
  /** Defaults to a random `device-…` ID. */
  peerId?: PeerId
  storage?: StorageAdapterInterface
  /** The adapter of the connection to the relay, whose joins carry the heads digests. */
  relay: DigestRelay
  /** Every network adapter of the device, the relay's included. */
  network: NetworkAdapterInterface[]
  /** Hears what each relay answer's catch-up bundles did. */
  onCatchUp?: (report: CatchUpReport) => void
}

/**
 * The device's Repo over the networks it is given, as the app runs it (the convergence simulation,
 * tests/sim/world.ts, runs its devices through it too, over simulated links).
 */
export function createDeviceRepo(options: DeviceRepoOptions): { repo: Repo; keepSyncing: (documentId: DocumentId) => () => void } {
  // On (re)connection the neighbourhood's documents wait for the heads digest's answer; only those
  // that differ sync (client/sync/heads-digest.ts). Everything else is shared with every peer.
  const reads = options.storage && trackReads(options.storage)
  const digest = new HeadsDigestClient(options.relay, reads?.idle)
  const repo = new Repo({
    peerId: options.peerId ?? (`device-${randomId(16)}` as PeerId),
    storage: reads?.storage,
    network: options.network,
    sharePolicy: async (peer, documentId) => !digest.holds(peer, documentId),
    syncDebounceRate: SYNC_DEBOUNCE_MS,
  })
  digest.attach(repo)
  if (options.onCatchUp) digest.onCatchUp(options.onCatchUp)
  keepOthersEphemeralMessages(repo)
  return { repo, keepSyncing: (documentId) => digest.keepSyncing(documentId) }
}

/**
 * Wraps a storage to know when no read is in flight (the heads digest waits for the documents to load
 * before a join; client/sync/heads-digest.ts).
 */
function trackReads(storage: StorageAdapterInterface): { storage: StorageAdapterInterface; idle: () => Promise<void> } {
  let inFlight = 0
  const waiters: (() => void)[] = []
  const track = async <T>(read: Promise<T>): Promise<T> => {
    inFlight++
    try {
      return await read
    } finally {
      if (--inFlight === 0) for (const wake of waiters.splice(0)) wake()
    }
  }
  const wrapped: StorageAdapterInterface = {
    load: (key) => track(storage.load(key)),
    loadRange: (prefix) => track(storage.loadRange(prefix)),
    save: (key, data) => storage.save(key, data),
    remove: (key) => storage.remove(key),
    removeRange: (prefix) => storage.removeRange(prefix),
  }
  // A turn of the event loop first, so reads the repo is about to start are counted.
  const idle = () => new Promise<void>((resolve) => setTimeout(() => (inFlight === 0 ? resolve() : waiters.push(resolve)), 0))
  return { storage: wrapped, idle }
}

/**
 * A device is not a relay: it keeps the ephemeral messages it receives (direct-link signalling) to
 * itself. automerge-repo 2.5.6 passes each one on, unchanged, with the original sender's `senderId`,
 * to every other peer of the document; the relay closes a socket that sends another peer's ID
 * (sync-server/network/frame-check.ts), and so does the WebRTC adapter. A phone that passed a
 * neighbour's "here" back to the relay was cut off each time.
 */
function keepOthersEphemeralMessages(repo: Repo): void {
  const network = repo.networkSubsystem
  const send = network.send
  network.send = (message) => {
    // Our own messages have no senderId yet (the network subsystem adds it); passed-on ones keep theirs.
    const sender = (message as { senderId?: string }).senderId
    if (message.type === 'ephemeral' && sender !== undefined && sender !== repo.peerId) return
    send.call(network, message)
  }
}

/** The relay's WebSocket address for a page served by it: same host and port, `/sync`. */
export function relayUrlFor(location: Pick<Location, 'protocol' | 'host'>): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/sync`
}
