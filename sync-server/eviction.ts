/**
 * Evicts idle documents from the relay's memory (DESIGN.md §5). automerge-repo 2.5.6 keeps every
 * document it has touched (its handle, its synchronizer, a sync state per peer, Automerge's wasm copy):
 * about 140 KB each for a small member feed, so 10,000 documents held 1.5 GB for good.
 *
 * A document leaves memory once its latest heads are on disk (sync-server/persisted-heads.ts says
 * what the store has written) and either
 * - **idle**: nothing happened to it for `idleMs` (no message about it in or out, no change) and no
 *   connected client is syncing it (an upstream relay does not count: it is told again on every
 *   (re)connection, peering.ts); or
 * - **over the cap**: more than `maxInMemory` documents are held; the least recently active ones go
 *   first, even if a client still has them open, but never one active in the last `busyMs` (an
 *   exchange under way).
 *
 * An evicted document comes back by itself: a message about it makes automerge-repo `find` it, which
 * loads it from storage; it then starts syncing again with every connected peer that asked for it on
 * its current connection (automerge-repo remembers who asked, across the eviction) or that an
 * upstream announce reaches. Modules that follow documents through their handles (the gate's copies,
 * the heads digest, upstream hosting, shared/repo-workarounds.ts) attach to the new handle when a
 * peer opens it, before the message that brought it back is applied.
 *
 * Why the listeners go before `removeFromCache`: it unloads the handle, which replaces the document
 * with an empty one and emits `heads-changed`, so the repo's own save listener would write the empty
 * document (automerge-repo issue #435) and the other listeners would see a document emptied. They are
 * removed first; one listener is left that saves any change that still lands before the unload.
 */
import { getHeads, type Doc } from '@automerge/automerge'
import type { DocHandle, DocumentId, Repo } from '@automerge/automerge-repo'
import type { Logger } from './log.ts'
import { isUpstreamPeer } from './peering.ts'
import type { PersistedHeadsReport } from './persisted-heads.ts'
import { sameHeads } from '../shared/heads.ts'

export interface EvictionPolicy {
  /** A document untouched this long, that no client is syncing, is evicted; 0: never for idleness. */
  idleMs: number
  /** Most documents kept in memory; 0: no cap. */
  maxInMemory: number
  /** Over the cap, a document active this recently stays (default {@link BUSY_MS}). */
  busyMs?: number
}

/**
 * Over the cap, a document touched less than this long ago is kept: a sync exchange is a few
 * messages a debounce apart, and evicting between them would only reload the document at once.
 */
export const BUSY_MS = 2_000

/** What the policy knows of one document in memory. */
export interface DocumentActivity {
  id: string
  /** When a message about it last went in or out, or it last changed (ms, any clock). */
  lastActive: number
  /** A connected client is syncing it (an upstream relay is not counted). */
  syncedByClient: boolean
}

/**
 * The documents to evict now, least recently active first (pure: no repo, no clock).
 *
 * @example
 * chooseEvictions([{ id: 'a', lastActive: 0, syncedByClient: false }], 60_000, { idleMs: 60_000, maxInMemory: 0 }) // ['a']
 */
export function chooseEvictions(docs: readonly DocumentActivity[], now: number, policy: EvictionPolicy): string[] {
  const busyMs = policy.busyMs ?? BUSY_MS
  const byAge = [...docs].sort((a, b) => a.lastActive - b.lastActive)
  const chosen = new Set<string>()
  if (policy.idleMs > 0) for (const d of byAge) if (!d.syncedByClient && now - d.lastActive >= policy.idleMs) chosen.add(d.id)
  if (policy.maxInMemory > 0) {
    let over = docs.length - chosen.size - policy.maxInMemory
    for (const d of byAge) {
      if (over <= 0) break
      if (chosen.has(d.id) || now - d.lastActive < busyMs) continue
      chosen.add(d.id)
      over--
    }
  }
  return byAge.filter((d) => chosen.has(d.id)).map((d) => d.id)
}

export interface EvictorOptions {
  repo: Repo
  persisted: PersistedHeadsReport
  policy: EvictionPolicy
  log: Logger
  /** How often the documents in memory are looked at (default: a tenth of the idle time, 100 ms to 10 s). */
  scanMs?: number
  now?: () => number
}


/** Watches a relay's repo and evicts its idle documents (see the file comment). */
export class DocumentEvictor {
  readonly #repo: Repo
  readonly #persisted: PersistedHeadsReport
  readonly #policy: EvictionPolicy
  readonly #log: Logger
  readonly #now: () => number
  readonly #scanMs: number
  /** Document → when it was last active, and its heads then (joined). */
  readonly #activity = new Map<DocumentId, { at: number; heads: string }>()
  #timer: ReturnType<typeof setInterval> | undefined
  #scanning: Promise<void> | undefined
  #stopped = false
  /** Documents evicted since start. */
  evicted = 0

  constructor(options: EvictorOptions) {
    this.#repo = options.repo
    this.#persisted = options.persisted
    this.#policy = options.policy
    this.#log = options.log
    this.#now = options.now ?? (() => performance.now())
    const fromIdle = options.policy.idleMs > 0 ? options.policy.idleMs / 10 : 1_000
    this.#scanMs = options.scanMs ?? Math.min(10_000, Math.max(100, fromIdle))
  }

  /** Starts watching (no-op when the policy evicts nothing). */
  start(): void {
    if (this.#policy.idleMs <= 0 && this.#policy.maxInMemory <= 0) return
    this.#repo.networkSubsystem.on('message', this.#onMessage)
    this.#repo.synchronizer.on('message', this.#onMessage)
    this.#timer = setInterval(() => void this.scan(), this.#scanMs)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#repo.networkSubsystem.off('message', this.#onMessage)
    this.#repo.synchronizer.off('message', this.#onMessage)
  }

  /** Looks at every document in memory once and evicts those the policy picks. One scan at a time. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => (this.#scanning = undefined))
    return this.#scanning
  }

  #onMessage = (message: object) => {
    const id = 'documentId' in message ? (message.documentId as DocumentId | undefined) : undefined
    if (id) this.#touch(id, this.#activity.get(id)?.heads ?? '')
  }

  #touch(id: DocumentId, heads: string): void {
    this.#activity.set(id, { at: this.#now(), heads })
  }

  async #scan(): Promise<void> {
    const now = this.#now()
    const docs: DocumentActivity[] = []
    for (const [id, handle] of Object.entries(this.#repo.handles) as [DocumentId, DocHandle<unknown>][]) {
      // Loading, asked of peers, or unavailable: nothing to write, and removeFromCache cannot take an
      // unavailable handle (it calls doc(), which throws): left alone.
      if (!handle.isReady()) continue
      const heads = getHeads(handle.doc() as Doc<unknown>).join(',')
      const seen = this.#activity.get(id)
      // First seen: active now, unless a message about it came first. Heads moved: active now.
      if (!seen) this.#activity.set(id, { at: now, heads })
      else if (seen.heads !== heads) this.#activity.set(id, { at: seen.heads === '' ? seen.at : now, heads })
      const peers = Object.keys(this.#repo.synchronizer.docSynchronizers[id]?.peerStates ?? {})
      docs.push({ id, lastActive: this.#activity.get(id)!.at, syncedByClient: peers.some((p) => !isUpstreamPeer(p)) })
    }
    for (const id of this.#activity.keys()) if (!this.#repo.handles[id]) this.#activity.delete(id)
    const chosen = chooseEvictions(docs, now, this.#policy)
    for (const id of chosen) {
      if (this.#stopped) return
      const at = this.#activity.get(id as DocumentId)?.at
      await this.#evict(id as DocumentId, at).catch((err: unknown) => this.#log.warn('could not evict a document; it stays in memory', { documentId: id, err }))
    }
    if (chosen.length) this.#log.debug('idle documents evicted', { evicted: chosen.length, inMemory: Object.keys(this.#repo.handles).length })
  }

  /** Evicts `id` if it is still as it was when chosen (`at`) and its heads are on disk. */
  async #evict(id: DocumentId, at: number | undefined): Promise<void> {
    const handle = this.#repo.handles[id]
    if (!handle?.isReady()) return
    const onDisk = () => sameHeads(this.#persisted.persistedHeads(id) ?? [], getHeads(handle.doc() as Doc<unknown>))
    // Not written yet (a save waiting out automerge-repo's 100 ms throttle, or failing): write it now.
    if (!onDisk()) await this.#repo.flush([id])
    // Something happened meanwhile, or the write did not take: keep it.
    if (this.#stopped || this.#repo.handles[id] !== handle || this.#activity.get(id)?.at !== at || !handle.isReady() || !onDisk()) return
    handle.removeAllListeners()
    const storage = this.#repo.storageSubsystem
    handle.on('heads-changed', ({ doc }) => {
      // A change that lands between here and the unload (which empties the document) is written.
      if (storage && getHeads(doc).length) void storage.saveDoc(id, doc).catch((err: unknown) => this.#log.error('could not save a document being evicted', { documentId: id, err }))
    })
    await this.#repo.removeFromCache(id)
    handle.removeAllListeners()
    this.#activity.delete(id)
    this.evicted++
  }
}

