/**
 * Relay-to-relay peering (`--upstream`): which peers are upstream relays, what the relay shares with
 * them, and which documents it keeps in step with them.
 *
 * Towards its clients a relay never announces: a phone gets a document only by asking for its ID.
 * Towards an upstream relay it announces every document it hosts, so they flow up, and asks for the
 * documents its neighbourhoods list, so they flow down even before a phone asks: a hall's relay holds
 * the whole board when the line goes down. A document a client asks for that the relay lacks is asked
 * of the upstream (automerge-repo forwards the request to every peer its share policy allows).
 *
 * Pure policy over a `Repo`: the WebSocket side is network/upstream-adapter.ts, and the convergence
 * simulation (tests/sim) drives this same code over in-memory links.
 */
import type { DocHandle, DocumentId, PeerId, Repo, RepoConfig } from '@automerge/automerge-repo'
import { isValidAutomergeUrl, isValidDocumentId } from '@automerge/automerge-repo'
import type { Logger } from './log.ts'
import { onEachDocument } from '../shared/repo-workarounds.ts'

/**
 * The repo knows an upstream relay as `upstream/<n>/<its peer ID>`. Client peer IDs cannot contain `/`
 * (shared/protocol.ts refuses them at join), so no client can pass for an upstream and be announced
 * every document, nor take over the route to one.
 */
export const UPSTREAM_PREFIX = 'upstream/'

export const isUpstreamPeer = (peerId: string): boolean => peerId.startsWith(UPSTREAM_PREFIX)

/** The name under which the repo knows the relay reached through upstream connection `index`. */
export function upstreamPeerId(index: number, remote: string): PeerId {
  return `${UPSTREAM_PREFIX}${index}/${remote}` as PeerId
}

/** The peer ID an upstream relay calls itself, from the repo's name for it. */
export function remotePeerIdOf(alias: string): string | undefined {
  if (!isUpstreamPeer(alias)) return undefined
  const rest = alias.slice(UPSTREAM_PREFIX.length)
  const slash = rest.indexOf('/')
  return slash < 0 ? undefined : rest.slice(slash + 1)
}

export type ShareConfig = NonNullable<RepoConfig['shareConfig']>

/**
 * What the relay shares with whom. Upstream relays: every document, announced. Clients: only what they
 * ask for by ID, never announced.
 *
 * Why the reset on disconnection: automerge-repo resets its sync state with a peer (dropping what it
 * believes it already sent) only when it begins syncing with that peer on its own initiative. Without
 * it, a sync message the relay sent into a socket that died before delivering it is never sent again
 * to that client (same peer ID, reconnected): the client keeps missing those changes, and every later
 * change that depends on them, until the relay restarts. The convergence simulation found this (seed 1
 * before this policy). The relay used to fix it by announcing to a returning client every document it
 * had asked for, which restarted the relay's side of each sync when the client reconnected: one more
 * sync message per document and per reconnection, and two more round trips (BENCHMARKS.md, catch-up),
 * even for documents that had not changed. Now the relay restarts its side when the client's socket
 * goes, for each document that client asked for: the message that restart produces goes nowhere (the
 * peer is gone) and costs nothing on the wire, and the state the client finds on its return is clean.
 *
 * What a client asked for is learnt from the messages it sends (`attach`), never from automerge-repo's
 * `access` calls: those are also made for every connected peer whenever a document is evaluated.
 *
 * @example
 * const sharing = new RelaySharing()
 * const repo = new Repo({ storage, network, shareConfig: sharing.shareConfig })
 * sharing.attach(repo)
 */
export class RelaySharing {
  /** Client peer ID → documents it asked for, most recently active peers last. */
  readonly #asked = new Map<PeerId, Set<DocumentId>>()
  readonly #maxPeers: number

  /** @param maxPeers client peers remembered (the least recently active are forgotten first). */
  constructor(maxPeers = 10_000) {
    this.#maxPeers = maxPeers
  }

  readonly shareConfig: ShareConfig = {
    announce: async (peerId) => isUpstreamPeer(peerId),
    // Anyone may have any document it asks for by ID (DESIGN.md §4: membership checks come later).
    access: async () => true,
  }

  /** Whether the client `peerId` has sent a message about `documentId` (that the relay still remembers). */
  asked(peerId: PeerId, documentId: DocumentId): boolean {
    return this.#asked.get(peerId)?.has(documentId) ?? false
  }

  /**
   * Learns from the repo's inbound messages what each client asks for, and restarts the relay's side
   * of those syncs when the client goes; returns a function that stops.
   */
  attach(repo: Repo): () => void {
    const onMessage = (message: { type: string; senderId: PeerId; documentId?: DocumentId }) => {
      if ((message.type === 'sync' || message.type === 'request') && message.documentId && !isUpstreamPeer(message.senderId))
        this.#remember(message.senderId, message.documentId)
    }
    const onGone = ({ peerId }: { peerId: PeerId }) => {
      if (!isUpstreamPeer(peerId)) for (const documentId of this.#asked.get(peerId) ?? []) void resetSync(repo, peerId, documentId)
    }
    repo.networkSubsystem.on('message', onMessage)
    repo.networkSubsystem.on('peer-disconnected', onGone)
    return () => {
      repo.networkSubsystem.off('message', onMessage)
      repo.networkSubsystem.off('peer-disconnected', onGone)
    }
  }

  #remember(peerId: PeerId, documentId: DocumentId): void {
    let docs = this.#asked.get(peerId)
    if (docs) this.#asked.delete(peerId)
    else docs = new Set()
    docs.add(documentId)
    this.#asked.set(peerId, docs)
    if (this.#asked.size > this.#maxPeers) this.#asked.delete(this.#asked.keys().next().value as PeerId)
  }
}

/**
 * Restarts the relay's side of the sync of `documentId` with a peer that has just gone: automerge-repo's
 * `beginSync` round-trips the sync state through its encoding (keeping only the heads both sides are
 * known to share) and sends a first message, which the network drops since the peer is gone. The peer
 * is then taken off the document's peers again, unless it is already back, so that the relay does
 * not compute messages for a client that may never return.
 */
async function resetSync(repo: Repo, peerId: PeerId, documentId: DocumentId): Promise<void> {
  const synchronizer = repo.synchronizer.docSynchronizers[documentId]
  const handle = repo.handles[documentId]
  if (!synchronizer || !handle || synchronizer.hasPeer(peerId)) return
  await synchronizer.beginSync([peerId])
  // beginSync sends once the handle is ready: wait for that, then one turn of the event loop.
  await handle.whenReady(['ready', 'requesting', 'unavailable']).catch(() => undefined)
  await new Promise((resolve) => setImmediate(resolve))
  if (!repo.peers.includes(peerId)) synchronizer.endSync(peerId)
}

export interface HostingOptions {
  repo: Repo
  /** IDs of the documents in the relay's storage (any order; anything not a document ID is ignored). */
  listStoredDocuments: () => Promise<readonly string[]>
  log: Logger
  /** At most this many stored documents are loaded when an upstream first connects (default 20,000). */
  maxDocuments?: number
  /** Documents loaded from storage at a time (default 8). */
  concurrency?: number
}

/** Shape of a neighbourhood document, as far as following its registry needs (checked field by field). */
interface RegistryLike {
  type?: unknown
  members?: unknown
}

/**
 * Keeps the relay's hosted documents in step with its upstream relays:
 * - when an upstream first connects, loads every stored document (bounded), so that automerge-repo
 *   syncs each one with it (a document only on disk is not synced with anyone);
 * - follows every neighbourhood document it holds: each member feed it lists is asked for (from the
 *   upstream when the relay lacks it), and the registry is followed as it changes.
 * What is loaded is evicted again once idle (eviction.ts), and comes back when it changes on either side.
 */
export class UpstreamHosting {
  readonly #repo: Repo
  readonly #list: HostingOptions['listStoredDocuments']
  readonly #log: Logger
  readonly #max: number
  readonly #concurrency: number
  /** Handles followed (a document evicted and loaded again has a new one). */
  readonly #watched = new WeakSet<DocHandle<unknown>>()
  /** Member feeds asked for once: not asked again (an evicted one comes back when someone syncs it). */
  readonly #asked = new Set<DocumentId>()
  #loaded: Promise<void> | undefined
  #stopped = false
  #stopWatching: (() => void) | undefined

  constructor(options: HostingOptions) {
    this.#repo = options.repo
    this.#list = options.listStoredDocuments
    this.#log = options.log
    this.#max = options.maxDocuments ?? 20_000
    this.#concurrency = options.concurrency ?? 8
  }

  /** Starts listening; call once, right after the repo is made. */
  start(): void {
    this.#repo.networkSubsystem.on('peer', ({ peerId }) => {
      if (!this.#stopped && isUpstreamPeer(peerId)) void this.#onUpstream()
    })
    // Every document that reaches the relay from any peer starts syncing with it: watch it from then on.
    this.#stopWatching = onEachDocument(this.#repo, (handle) => this.#watch(handle))
  }

  stop(): void {
    this.#stopped = true
    this.#stopWatching?.()
  }

  /** Resolves once the stored documents are loaded (after the first upstream connected). For tests. */
  whenLoaded(): Promise<void> {
    return this.#loaded ?? Promise.resolve()
  }

  async #onUpstream(): Promise<void> {
    // On every (re)connection: a document changed while no upstream was connected may have been
    // evicted from memory since (eviction.ts), and only documents in memory sync with a new peer.
    const previous = this.#loaded ?? Promise.resolve()
    this.#loaded = previous.then(() => this.#loadStored())
    await this.#loaded
    for (const handle of Object.values(this.#repo.handles)) this.#watch(handle)
  }

  async #loadStored(): Promise<void> {
    let ids: string[]
    try {
      ids = (await this.#list()).filter((id) => isValidDocumentId(id))
    } catch (err) {
      this.#log.error('could not list stored documents for the upstream', { err })
      return
    }
    if (ids.length > this.#max) {
      this.#log.warn('too many stored documents to load for the upstream; the rest sync when a client asks', { stored: ids.length, loaded: this.#max })
      ids = ids.slice(0, this.#max)
    }
    const started = performance.now()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length && !this.#stopped) {
        const id = ids[next++] as DocumentId
        if (this.#repo.handles[id]?.isReady()) continue
        try {
          const handle = await this.#repo.find(id, { allowableStates: ['ready', 'unavailable'] })
          this.#watch(handle)
        } catch (err) {
          this.#log.warn('could not load a stored document for the upstream', { documentId: id, err })
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, ids.length) }, worker))
    this.#log.info('stored documents loaded for the upstream', { documents: ids.length, ms: Math.round(performance.now() - started) })
  }

  #watch(handle: DocHandle<unknown>): void {
    if (this.#watched.has(handle)) return
    this.#watched.add(handle)
    // A neighbourhood is created empty and filled in by a later change, and members join later:
    // look again whenever it changes.
    handle.on('heads-changed', () => this.#follow(handle))
    this.#follow(handle)
  }

  /** If `handle` is a neighbourhood, asks for every member feed it lists that the relay does not hold. */
  #follow(handle: DocHandle<unknown>): void {
    if (this.#stopped || !handle.isReady()) return
    const doc = handle.doc() as RegistryLike | undefined
    if (doc?.type !== 'placette/neighbourhood' || typeof doc.members !== 'object' || doc.members === null) return
    for (const entry of Object.values(doc.members as Record<string, unknown>)) {
      const feed = (entry as { feed?: unknown } | null)?.feed
      if (typeof feed !== 'string' || !isValidAutomergeUrl(feed)) continue
      const id = feed.slice('automerge:'.length) as DocumentId
      const known = this.#repo.handles[id]
      if (known) {
        this.#watch(known)
        continue
      }
      if (this.#asked.has(id)) continue
      this.#asked.add(id)
      this.#repo
        .find(feed, { allowableStates: ['ready', 'unavailable'] })
        .then((found) => this.#watch(found))
        .catch((err: unknown) => this.#log.warn('could not ask for a member feed', { documentId: id, err }))
    }
  }
}
