/**
 * The device's side of the heads digest (shared/heads-digest.ts, DESIGN.md §2): each join to the
 * relay carries one digest per neighbourhood the device holds, and the relay's `peer` answer says
 * which buckets differ (with its entries in those). Before automerge-repo hears of the relay, the
 * device knows which of its documents the relay holds at the same heads, and holds their sync back
 * (the share policy says "do not announce" for them); the others sync as usual. An unchanged
 * document costs nothing on the wire.
 *
 * Never losing a change:
 * - a document changed while offline, on either side, differs from the relay's copy: it syncs;
 * - a held document that changes later (here, in another tab, over WebRTC) is released at once and
 *   starts syncing with the relay;
 * - a held document the relay changes later: the relay starts that sync itself
 *   (sync-server/heads-digest.ts), and automerge-repo here answers any sync message whatever the share
 *   policy says;
 * - no answer (a stock server, an older relay, a malformed answer): nothing is held, everything syncs.
 * Documents not covered (conversations, documents still not loaded after {@link LOAD_WAIT_MS}) sync as before.
 *
 * Catch-up (shared/catch-up.ts): the answer may also carry, for documents that differ, the changes the
 * relay knows this device lacks. They are applied (`A.loadIncremental`) before the repo hears of the
 * relay; a document then at exactly the relay's heads is held back like one that was the same, so it
 * runs no sync exchange at all. One that is not (it has changes of its own, or the bundle lacked a
 * dependency) syncs as usual. A malformed bundle is refused whole, reported (`onCatchUp`), and its
 * documents sync as usual.
 *
 * On a cold start the socket usually opens before the documents have loaded from IndexedDB: the join
 * then waits until the storage has no read in flight, asking meanwhile for the feeds the neighbourhoods
 * list, at most {@link LOAD_WAIT_MS} (automerge-repo could not sync a document still loading anyway).
 */
import * as A from '@automerge/automerge'
import type { DocHandle, DocumentId, NetworkAdapterInterface, PeerId, Repo } from '@automerge/automerge-repo'
import {
  bucketHashes,
  compareWithAnswer,
  coveredDocuments,
  digestEntry,
  hex,
  isNeighbourhood,
  MAX_DIGESTS,
  parseDigestAnswers,
  unpackKeys,
  type DigestEntry,
  type DigestRequest,
} from '../../shared/heads-digest.ts'
import { announcesFeature, PERSISTED_HEADS_FEATURE } from '../../shared/persisted-heads.ts'
import { parseCatchUp, unpackHeads, type CatchUpDocument } from '../../shared/catch-up.ts'
import type { RelayAdapter } from './websocket-adapter.ts'
import { sameHeads } from '../../shared/heads.ts'

/** How long a join waits for the documents to load before its digest sums up what is loaded. */
export const LOAD_WAIT_MS = 3000

/**
 * What the digest needs of the relay's adapter (RelayAdapter; the convergence simulation's link end,
 * tests/sim/link.ts, offers the same over its simulated socket).
 */
export type DigestRelay = Pick<RelayAdapter, 'sendDigestsFrom' | 'onRelayOpen' | 'reportPersisted'> & Pick<NetworkAdapterInterface, 'on' | 'off'>

interface Sent {
  neighbourhood: DocumentId
  entries: DigestEntry[]
  /** Document → heads (hex) summed up in the digest. */
  heads: Map<DocumentId, string[]>
}

/** What one relay answer's catch-up bundles did (client/sync/heads-digest.ts `onCatchUp`). */
export interface CatchUpReport {
  /** Documents brought to exactly the relay's heads (their sync is held back). */
  applied: DocumentId[]
  /** Documents whose bundle was applied but that still differ (they sync as usual). */
  behind: DocumentId[]
  /** Why a bundle was refused (its documents sync as usual). */
  refused: string[]
}

const hexHeads = (handle: DocHandle<unknown>): string[] => A.getHeads(handle.doc() as A.Doc<unknown>)

/**
 * @example
 * const digest = new HeadsDigestClient(relay)
 * const repo = new Repo({ network: [relay], sharePolicy: async (peer, doc) => !digest.holds(peer, doc) })
 * digest.attach(repo)
 */
export class HeadsDigestClient {
  readonly #relay: DigestRelay
  #repo: Repo | undefined
  /** Digests sent in the current join, until the relay answers. */
  #sent: Sent[] = []
  #generation = 0
  /** The relay of this connection and the documents whose sync with it is held back. */
  #session: { relay: PeerId; held: Set<DocumentId> } | undefined
  readonly #watched = new WeakSet<DocHandle<unknown>>()
  /** Documents kept syncing on every connection (never held back), with how many asked for it. */
  readonly #live = new Map<DocumentId, number>()

  readonly #storageIdle: (() => Promise<void>) | undefined
  readonly #catchUpListeners = new Set<(report: CatchUpReport) => void>()

  /** @param storageIdle resolves once no read of the device's storage is in flight (absent: no storage, nothing to wait for). */
  constructor(relay: DigestRelay, storageIdle?: () => Promise<void>) {
    this.#relay = relay
    this.#storageIdle = storageIdle
  }

  /** For the share policy: true while the sync of `documentId` with `peerId` is held back. */
  holds(peerId: PeerId, documentId: DocumentId | undefined): boolean {
    const session = this.#session
    return !!session && !!documentId && session.relay === peerId && session.held.has(documentId)
  }

  /**
   * Keeps `documentId` syncing with the relay on every connection, even when the digest finds it
   * unchanged, until the returned function is called. For a document whose ephemeral messages matter
   * (presence and direct-link signalling on the neighbourhood document): automerge-repo passes those
   * only between peers syncing the document, on the device as on the relay, so a held document's
   * ephemeral messages would reach nobody until it next changed.
   */
  keepSyncing(documentId: DocumentId): () => void {
    this.#live.set(documentId, (this.#live.get(documentId) ?? 0) + 1)
    this.#release(documentId)
    let done = false
    return () => {
      if (done) return
      done = true
      const left = (this.#live.get(documentId) ?? 1) - 1
      if (left > 0) this.#live.set(documentId, left)
      else this.#live.delete(documentId)
    }
  }

  /** Calls `listener` after each relay answer that carried catch-up bundles (or refused ones); returns an unsubscribe function. */
  onCatchUp(listener: (report: CatchUpReport) => void): () => void {
    this.#catchUpListeners.add(listener)
    return () => this.#catchUpListeners.delete(listener)
  }

  /** Starts sending digests with every join; returns a function that stops. */
  attach(repo: Repo): () => void {
    this.#repo = repo
    this.#relay.sendDigestsFrom(() => this.#digests())
    const stopOpen = this.#relay.onRelayOpen((relay, metadata) => this.#answered(relay, metadata))
    const onGone = ({ peerId }: { peerId: PeerId }) => {
      if (this.#session?.relay === peerId) this.#session = undefined
    }
    this.#relay.on('peer-disconnected', onGone)
    return () => {
      this.#relay.sendDigestsFrom(() => [])
      stopOpen()
      this.#relay.off('peer-disconnected', onGone)
      this.#session = undefined
    }
  }

  /**
   * Waits (at most {@link LOAD_WAIT_MS}) until no document is being read from storage, asking meanwhile
   * for the feeds the loaded neighbourhoods list. Documents that are not in storage wait for the network
   * (for this very connection): they are not waited for.
   */
  async #loaded(repo: Repo): Promise<void> {
    const idle = this.#storageIdle
    if (!idle) return
    const settle = async () => {
      for (let round = 0; round < 2; round++) {
        await idle()
        for (const root of Object.values(repo.handles)) {
          if (!root.isReady() || !isNeighbourhood(root.doc())) continue
          for (const id of coveredDocuments(root.documentId, root.doc()).slice(1) as DocumentId[]) {
            if (!repo.handles[id]) repo.findWithProgress(id)
          }
        }
      }
      await idle()
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([settle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, LOAD_WAIT_MS)))])
    clearTimeout(timer)
  }

  /** The digests of every neighbourhood loaded, for the join about to be sent. */
  async #digests(): Promise<DigestRequest[]> {
    const generation = ++this.#generation
    this.#sent = []
    const repo = this.#repo
    if (!repo) return []
    await this.#loaded(repo)
    // A newer socket opened meanwhile: this join will not be sent.
    if (generation !== this.#generation) return []
    const seen = new Set<DocumentId>()
    for (const root of Object.values(repo.handles)) {
      if (!root.isReady() || !isNeighbourhood(root.doc())) continue
      const sent: Sent = { neighbourhood: root.documentId, entries: [], heads: new Map() }
      for (const id of coveredDocuments(root.documentId, root.doc()) as DocumentId[]) {
        const handle = repo.handles[id]
        if (!handle?.isReady() || seen.has(id)) continue
        seen.add(id)
        const heads = hexHeads(handle)
        sent.entries.push(digestEntry(id, heads))
        sent.heads.set(id, heads)
      }
      this.#sent.push(sent)
      if (this.#sent.length === MAX_DIGESTS) break
    }
    return this.#sent.map((sent) => ({
      neighbourhood: sent.neighbourhood,
      buckets: bucketHashes(sent.entries),
    }))
  }

  /** The relay answered the join: hold back what it holds at the same heads, before the repo hears of it. */
  #answered(relay: PeerId, metadata: unknown): void {
    const sent = this.#sent
    this.#sent = []
    const held = new Set<DocumentId>()
    this.#session = { relay, held }
    const repo = this.#repo
    if (!repo) return
    const raw = (metadata as { placetteDigest?: unknown } | undefined)?.placetteDigest
    const answers = parseDigestAnswers(raw)
    const persisted = announcesFeature(metadata, PERSISTED_HEADS_FEATURE)
    const report: CatchUpReport = { applied: [], behind: [], refused: [] }
    for (const [n, digest] of sent.entries()) {
      const answer = answers[n]
      if (!answer) continue
      const unsaved = unpackKeys(answer.unsaved)
      const hold = (handle: DocHandle<unknown>, key: string, heads: string[]) => {
        if (!this.#live.has(handle.documentId)) held.add(handle.documentId)
        this.#watch(handle)
        if (persisted && !unsaved.has(key)) this.#relay.reportPersisted(handle.documentId, heads)
      }
      const { same, differ } = compareWithAnswer(digest.entries, answer)
      for (const entry of same) {
        const id = entry.documentId as DocumentId
        const handle = repo.handles[id]
        const heads = digest.heads.get(id)
        // Changed since the join went out: it may differ now, so it syncs.
        if (!handle?.isReady() || !heads || !sameHeads(hexHeads(handle), heads)) continue
        hold(handle, entry.key, heads)
      }
      const bundles = parseCatchUp(Array.isArray(raw) ? (raw[n] as { catchUp?: unknown } | undefined)?.catchUp : undefined)
      if (!bundles.ok) {
        report.refused.push(bundles.detail)
        continue
      }
      const byKey = new Map(differ.map((e) => [e.key, e]))
      for (const bundle of bundles.documents) {
        const entry = byKey.get(hex(bundle.key))
        const handle = entry && repo.handles[entry.documentId as DocumentId]
        // Not a document this device sent in its digest as differing, or not loaded: left to the sync.
        if (!entry || !handle?.isReady()) continue
        const caught = this.#apply(handle, bundle)
        if (caught === 'refused') report.refused.push(`changes of ${entry.documentId} could not be applied`)
        else if (caught) {
          report.applied.push(handle.documentId)
          hold(handle, entry.key, hexHeads(handle))
        } else report.behind.push(handle.documentId)
      }
    }
    if (report.applied.length || report.behind.length || report.refused.length) for (const listener of this.#catchUpListeners) listener(report)
  }

  /**
   * Applies a catch-up bundle to a handle: true if the document is then at exactly the relay's heads,
   * false if not (it syncs), 'refused' if Automerge could not read the changes (nothing applied).
   */
  #apply(handle: DocHandle<unknown>, bundle: CatchUpDocument): boolean | 'refused' {
    const relayHeads = unpackHeads(bundle.heads)
    let failed = false
    handle.update((doc) => {
      try {
        return A.loadIncremental(doc, bundle.changes)
      } catch {
        failed = true
        return doc
      }
    })
    if (failed) return 'refused'
    return sameHeads(hexHeads(handle), relayHeads)
  }

  #watch(handle: DocHandle<unknown>): void {
    if (this.#watched.has(handle)) return
    this.#watched.add(handle)
    handle.on('heads-changed', () => this.#release(handle.documentId))
  }

  /** Stops holding `id` back and starts its sync with the relay (unless the relay already started it). */
  #release(id: DocumentId): void {
    const session = this.#session
    if (!session?.held.delete(id)) return
    const synchronizer = this.#repo?.synchronizer.docSynchronizers[id]
    if (synchronizer && !synchronizer.hasPeer(session.relay)) void synchronizer.beginSync([session.relay])
  }
}
