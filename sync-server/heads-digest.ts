/**
 * The relay's side of the heads digest (shared/heads-digest.ts): answers the digests a client sends in
 * its join with the buckets that differ and the relay's entries in them (in the `peer` answer), so
 * that the client syncs only the documents that differ, and keeps the rest in step afterwards.
 *
 * A document the digest found unchanged runs no sync exchange, so automerge-repo does not count the
 * client among that document's peers: a later change of it on the relay would reach the client only
 * at its next reconnect. So the relay remembers, per client, the covered documents it answered for,
 * and starts syncing one with that client as soon as it changes (`beginSync`, which sends the heads
 * and the client answers with what it lacks). The client does the same on its side
 * (client/sync/heads-digest.ts).
 *
 * The gate: entries name only documents the client may read (`mayRead`); a neighbourhood it may not
 * read is answered as if the relay had none of its documents, as for one the relay does not hold.
 *
 * Catch-up (shared/catch-up.ts): to a client that announces it, the answer also carries, for each
 * document of a differing bucket, the changes the client lacks: `A.saveSince` from the heads the
 * relay last heard the client had (automerge-repo's sync info for its storage ID, or the saved sync
 * state). Only entries, so only documents the gate lets the client read. Once answered, both are
 * moved to the relay's heads, so the next catch-up starts from there.
 */
import * as A from '@automerge/automerge'
import { decodeHeads, encodeHeads, type DocHandle, type DocumentId, type PeerId, type Repo, type StorageId } from '@automerge/automerge-repo'
import { CATCH_UP_FEATURE, MAX_CATCH_UP_BYTES, packHeads, type CatchUpDocument } from '../shared/catch-up.ts'
import {
  bucketHashes,
  coveredDocuments,
  differingBuckets,
  digestEntry,
  DIGEST_BUCKETS,
  hexToBytes,
  packEntries,
  packKeys,
  type DigestAnswer,
  type DigestEntry,
  type DigestRequest,
} from '../shared/heads-digest.ts'
import { announcesFeature } from '../shared/persisted-heads.ts'
import type { Logger } from './log.ts'
import type { PersistedHeadsReport } from './persisted-heads.ts'
import { onEachDocument } from '../shared/repo-workarounds.ts'
import { sameHeads } from '../shared/heads.ts'

/** What the responder reads of a joining client's metadata. */
export interface JoinerMetadata {
  storageId?: string
  isEphemeral?: boolean
  placetteFeatures?: string[]
}

export interface DigestResponderOptions {
  repo: Repo
  /** The gate's read check; absent on an open relay (everyone reads everything). */
  mayRead?: (peer: PeerId, documentId: DocumentId) => Promise<boolean>
  persisted: PersistedHeadsReport
  log: Logger
}

const ALL_BUCKETS = 2 ** DIGEST_BUCKETS - 1
/** Heads as Automerge gives them (hex), as persisted-heads.ts keeps them; `handle.heads()` is base58. */
const hexHeads = (handle: DocHandle<unknown>): string[] => A.getHeads(handle.doc() as A.Doc<unknown>)

export class DigestResponder {
  readonly #repo: Repo
  readonly #mayRead: DigestResponderOptions['mayRead']
  readonly #persisted: PersistedHeadsReport
  readonly #log: Logger
  /** Document → clients that hold it (per their digest) and are to be synced when it changes. */
  readonly #holders = new Map<DocumentId, Set<PeerId>>()
  readonly #heldBy = new Map<PeerId, Set<DocumentId>>()
  /** Handles watched (a document evicted from memory and loaded again has a new one, watched then). */
  readonly #watched = new WeakSet<DocHandle<unknown>>()
  readonly #stopWatching: () => void
  readonly #connected = new Set<PeerId>()
  #stopped = false

  constructor(options: DigestResponderOptions) {
    this.#repo = options.repo
    this.#mayRead = options.mayRead
    this.#persisted = options.persisted
    this.#log = options.log
    this.#repo.networkSubsystem.on('peer', this.#onPeer)
    this.#repo.networkSubsystem.on('peer-disconnected', this.#onGone)
    this.#stopWatching = onEachDocument(this.#repo, (handle) => {
      if (this.#holders.get(handle.documentId)?.size) this.#watch(handle)
    })
  }

  stop(): void {
    this.#stopped = true
    this.#repo.networkSubsystem.off('peer', this.#onPeer)
    this.#repo.networkSubsystem.off('peer-disconnected', this.#onGone)
    this.#stopWatching()
  }

  /**
   * Answers the digests of a joining client. Never throws: a digest that cannot be computed is
   * answered "everything differs" (plain sync). Call `commit` once the repo knows the peer: from then on
   * the documents answered for are kept in step with it.
   */
  async answer(peer: PeerId, requests: readonly DigestRequest[], peerMetadata: JoinerMetadata = {}): Promise<{ answers: DigestAnswer[]; commit: () => void }> {
    /** Entries answered, and whether the client learns from the answer that it holds them as on disk. */
    const answered: { entry: DigestEntry; known: boolean; heads: string[] }[] = []
    /** Documents caught up: their sync state with the client moves to these heads on commit. */
    const caughtUp: { id: DocumentId; heads: string[] }[] = []
    const storageId = announcesFeature(peerMetadata, CATCH_UP_FEATURE) && !peerMetadata.isEphemeral ? peerMetadata.storageId : undefined
    let budget = MAX_CATCH_UP_BYTES
    const answers: DigestAnswer[] = []
    // One digest after the other, so the catch-up budget is shared in order.
    for (const request of requests) {
      let entries: DigestEntry[] = []
      try {
        entries = await this.#entries(peer, request.neighbourhood as DocumentId)
      } catch (err) {
        this.#log.warn('could not compute a heads digest; the client syncs everything', { peer, err })
      }
      const differ = entries.length ? differingBuckets(bucketHashes(entries), request.buckets) : ALL_BUCKETS
      const unsaved = entries.filter((e) => {
        const on = this.#persisted.persistedHeads(e.documentId as DocumentId)
        const handle = this.#repo.handles[e.documentId as DocumentId]
        return !on || !handle?.isReady() || !sameHeads(on, hexHeads(handle))
      })
      const catchUp: CatchUpDocument[] = []
      if (storageId) {
        for (const entry of entries) {
          if (!(differ & (1 << entry.bucket))) continue
          const found = await this.#catchUp(entry, storageId as StorageId, budget).catch((err: unknown) => {
            this.#log.warn('could not make a catch-up bundle; the document syncs as before', { peer, documentId: entry.documentId, err })
            return undefined
          })
          if (!found) continue
          budget -= found.document.changes.byteLength
          catchUp.push(found.document)
          caughtUp.push({ id: entry.documentId as DocumentId, heads: found.heads })
        }
      }
      // In a bucket that matched, the client holds the document as the relay does, and the answer tells
      // it what is on disk; in one that differs it may or may not (it decides). A caught-up document
      // is at the relay's heads once the client has applied its bundle.
      const caught = new Set(caughtUp.map((c) => c.id as string))
      for (const entry of entries) {
        const handle = this.#repo.handles[entry.documentId as DocumentId]
        const known = (!(differ & (1 << entry.bucket)) || caught.has(entry.documentId)) && !unsaved.includes(entry)
        answered.push({ entry, known, heads: handle?.isReady() ? hexHeads(handle) : [] })
      }
      const listed = packEntries(entries, differ)
      this.#log.debug('heads digest answered', { peer, documents: entries.length, differ: differ.toString(2), caughtUp: catchUp.length })
      answers.push({
        differ,
        ...(listed.byteLength ? { entries: listed } : {}),
        ...(unsaved.length ? { unsaved: packKeys(unsaved) } : {}),
        ...(catchUp.length ? { catchUp } : {}),
      })
    }
    const commit = () => {
      if (this.#stopped) return
      for (const { entry, known, heads } of answered) {
        const id = entry.documentId as DocumentId
        this.#hold(peer, id)
        this.#persisted.follow(peer, id, known)
        // Changed between the answer and now: the client cannot have heard of it.
        const handle = this.#repo.handles[id]
        if (handle?.isReady() && !sameHeads(hexHeads(handle), heads)) void this.#changed(id)
      }
      if (storageId) for (const { id, heads } of caughtUp) void this.#movedTo(id, storageId as StorageId, heads)
    }
    return { answers, commit }
  }

  /**
   * The changes of `entry`'s document the client with `storageId` lacks, as far as the relay's sync
   * state with it says: none if it has no such state, if the client has all the relay has, or past
   * `budget` bytes.
   */
  async #catchUp(entry: DigestEntry, storageId: StorageId, budget: number): Promise<{ document: CatchUpDocument; heads: string[] } | undefined> {
    const handle = this.#repo.handles[entry.documentId as DocumentId]
    const storage = this.#repo.storageSubsystem
    if (!handle?.isReady() || !storage) return undefined
    // The client's heads as the relay last heard them, kept on the handle for its storage ID (in memory,
    // up to date); after a restart, the sync state written for it. automerge-repo 2.5.6 throttles those
    // writes per storage ID, not per document, so a stored state may be missing or behind: that only
    // means a longer bundle, or none (the document then syncs as before).
    const known = handle.getSyncInfo(storageId)?.lastHeads
    const shared = known?.length ? decodeHeads(known) : ((await storage.loadSyncState(handle.documentId, storageId))?.sharedHeads ?? [])
    if (!shared.length) return undefined
    const doc = handle.doc() as A.Doc<unknown>
    const heads = A.getHeads(doc)
    if (sameHeads(shared, heads) || !A.hasHeads(doc, shared)) return undefined
    const changes = A.saveSince(doc, shared)
    if (!changes.byteLength || changes.byteLength > budget) return undefined
    return { document: { key: hexToBytes(entry.key), heads: packHeads(heads), changes }, heads }
  }

  /** The client was sent the changes up to `heads`: what the relay's next sync with it starts from. */
  async #movedTo(id: DocumentId, storageId: StorageId, heads: string[]): Promise<void> {
    const storage = this.#repo.storageSubsystem
    if (!storage || this.#stopped) return
    this.#repo.handles[id]?.setSyncInfo(storageId, { lastHeads: encodeHeads(heads), lastSyncTimestamp: Date.now() })
    try {
      const state = (await storage.loadSyncState(id, storageId)) ?? A.initSyncState()
      await storage.saveSyncState(id, storageId, { ...A.decodeSyncState(A.encodeSyncState(state)), sharedHeads: heads })
    } catch (err) {
      this.#log.warn('could not move a sync state after a catch-up', { documentId: id, err })
    }
  }

  /** The relay's entries for the documents of `neighbourhood` that `peer` may read and the relay holds. */
  async #entries(peer: PeerId, neighbourhood: DocumentId): Promise<DigestEntry[]> {
    const root = await this.#ready(peer, neighbourhood)
    if (!root) return []
    const ids = coveredDocuments(neighbourhood, root.doc()) as DocumentId[]
    const handles = await Promise.all(ids.map((id) => (id === neighbourhood ? root : this.#ready(peer, id))))
    return handles.filter((h): h is DocHandle<unknown> => h !== undefined).map((h) => digestEntry(h.documentId, hexHeads(h)))
  }

  /** The document loaded, if the relay holds it and `peer` may read it. */
  async #ready(peer: PeerId, id: DocumentId): Promise<DocHandle<unknown> | undefined> {
    if (this.#mayRead && !(await this.#mayRead(peer, id))) return undefined
    const known = this.#repo.handles[id]
    if (known?.isReady()) return known
    // The gate read it from storage, or the relay is open: load it (it stays in memory, as every
    // document a client syncs does).
    const handle = await this.#repo.find(id, { allowableStates: ['ready', 'unavailable'] }).catch(() => undefined)
    return handle?.isReady() ? handle : undefined
  }

  #hold(peer: PeerId, id: DocumentId): void {
    let holders = this.#holders.get(id)
    if (!holders) this.#holders.set(id, (holders = new Set()))
    holders.add(peer)
    let held = this.#heldBy.get(peer)
    if (!held) this.#heldBy.set(peer, (held = new Set()))
    held.add(id)
    const handle = this.#repo.handles[id]
    if (handle) this.#watch(handle)
  }

  #watch(handle: DocHandle<unknown>): void {
    if (this.#watched.has(handle)) return
    this.#watched.add(handle)
    handle.on('heads-changed', () => void this.#changed(handle.documentId))
  }

  /** A held document changed on the relay: start syncing it with every holder not syncing it yet. */
  async #changed(id: DocumentId): Promise<void> {
    const synchronizer = this.#repo.synchronizer.docSynchronizers[id]
    const holders = this.#holders.get(id)
    if (this.#stopped || !synchronizer || !holders) return
    for (const peer of [...holders]) {
      if (!this.#connected.has(peer) || synchronizer.hasPeer(peer)) continue
      if (this.#mayRead && !(await this.#mayRead(peer, id))) continue
      if (!synchronizer.hasPeer(peer)) void synchronizer.beginSync([peer])
    }
  }

  #onPeer = ({ peerId }: { peerId: PeerId }) => void this.#connected.add(peerId)

  #onGone = ({ peerId }: { peerId: PeerId }) => {
    this.#connected.delete(peerId)
    for (const id of this.#heldBy.get(peerId) ?? []) this.#holders.get(id)?.delete(peerId)
    this.#heldBy.delete(peerId)
  }
}
