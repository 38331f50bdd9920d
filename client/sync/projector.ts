import * as A from '@automerge/automerge'
import { decodeHeads, type AutomergeUrl, type DocHandle, type DocHandleRemoteHeadsPayload, type Repo } from '@automerge/automerge-repo'
import { FeedProjectionCache, PROJECTION_VERSION, projectNeighbourhood } from '../../shared/projector.ts'
import type { DocUrl } from '../../shared/ids.ts'
import { validVersion } from '../../shared/signed-changes.ts'
import { sameHeads } from '../../shared/heads.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { FeedChecks } from './feed-checks.ts'
import type { Collection, Table } from 'dexie'
import { INDEX_TABLES, type BoardPost, type PlacetteDb } from '../db/db.ts'
import type { RelayAdapter } from './websocket-adapter.ts'
import type { StorageHealth } from './storage-health.ts'

type Kind = 'neighbourhood' | 'feed'
/** Stands for the status bar's count of unsent changes among the index writes that failed. */
const PENDING_COUNT = 'pending-count'

/**
 * Makes the rows `existing` selects exactly `rows`, writing only those that differ from what is stored:
 * on a cold start every feed is projected again, and rewriting identical rows would wake every live
 * query of the app (the board, the search index) two hundred times for nothing.
 */
async function replaceRows<R, K, I>(table: Table<R, K, I>, existing: Collection<R, K, I>, rows: readonly R[], keyOf: (r: R) => K): Promise<void> {
  const stored = new Map<string, { key: K; json: string }>()
  for (const r of await existing.toArray()) {
    const key = keyOf(r)
    stored.set(JSON.stringify(key), { key, json: JSON.stringify(r) })
  }
  const changed: R[] = []
  for (const r of rows) {
    const id = JSON.stringify(keyOf(r))
    const before = stored.get(id)
    stored.delete(id)
    if (before?.json !== JSON.stringify(r)) changed.push(r)
  }
  if (stored.size) await table.bulkDelete([...stored.values()].map((s) => s.key))
  if (changed.length) await table.bulkPut(changed as unknown as I[])
}

/**
 * Turns document changes into rows of the Dexie index, so the UI can read (and paint on a cold start)
 * without loading any Automerge document. Also remembers what the relay holds of each document, which
 * is how a post knows it is still only on this device.
 */
export class Projector {
  readonly #db: PlacetteDb
  readonly #repo: Repo
  readonly #relay: RelayAdapter
  readonly #handles = new Map<DocUrl, { handle: DocHandle<unknown>; kind: Kind }>()
  readonly #loading = new Map<DocUrl, Kind>()
  /** Documents we asked for and nobody had yet; asked for again when the relay connects. */
  readonly #missing = new Map<DocUrl, Kind>()
  /** Documents this device writes: the current profile's feed and the neighbourhood it joined. */
  readonly #own = new Set<DocUrl>()
  readonly #scheduled = new Set<DocUrl>()
  readonly #erased = new Set<DocUrl>()
  /** Documents whose rows could not be written (a full device): projected again on a retry. */
  readonly #unwritten = new Set<DocUrl | typeof PENDING_COUNT>()
  readonly #health: StorageHealth | undefined
  /** Each feed's last projection, so a change rewrites only the rows it touched. */
  readonly #feeds = new Map<DocUrl, FeedProjectionCache>()
  /** Each feed's signatures, checked against its owner's key: what is projected is the valid version. */
  readonly feedChecks: FeedChecks
  #flushing: Promise<void> | undefined
  #stopRelayWatch: () => void
  #stopPersistedWatch: () => void

  constructor(repo: Repo, db: PlacetteDb, relay: RelayAdapter, health?: StorageHealth) {
    this.#repo = repo
    this.#db = db
    this.#relay = relay
    this.#health = health
    this.feedChecks = new FeedChecks(db)
    health?.onRetry(async () => {
      // Projecting the device's own documents also counts the unsent changes again.
      for (const url of [...this.#unwritten, ...this.#own]) if (url !== PENDING_COUNT) this.#schedule(url)
      await this.settled()
    })
    this.#stopRelayWatch = relay.onConnection((c) => {
      if (c.state === 'open') this.#retryMissing()
    })
    this.#stopPersistedWatch = relay.onPersistedHeads((documentId, heads) => void this.#onPersistedHeads(`automerge:${documentId}`, heads))
  }

  /** Marks documents as this device's own writing, whose unsynced changes the status bar counts. */
  setOwn(urls: readonly DocUrl[]): void {
    // A feed that stops being this device's own is written whole once more, to clear its pending marks.
    for (const url of this.#own) if (!urls.includes(url)) this.#feeds.delete(url)
    for (const url of this.#own) if (!urls.includes(url)) this.#schedule(url)
    this.#own.clear()
    for (const url of urls) this.#own.add(url)
    for (const url of urls) this.#schedule(url)
  }

  /** Starts projecting a neighbourhood and, through its member registry, every member's feed. */
  watchNeighbourhood(url: DocUrl): Promise<void> {
    return this.#watch(url, 'neighbourhood')
  }

  /** Resolves once every scheduled projection has been written. */
  async settled(): Promise<void> {
    while (this.#flushing) await this.#flushing
  }

  /** Drops the index tables and projects every watched document again. */
  async rebuild(): Promise<void> {
    await this.settled()
    this.#feeds.clear()
    await this.#db.transaction('rw', INDEX_TABLES.map((t) => this.#db.table(t)), async () => {
      for (const t of INDEX_TABLES) await this.#db.table(t).clear()
    })
    for (const url of this.#handles.keys()) this.#schedule(url)
    await this.settled()
  }

  stop(): void {
    this.#stopRelayWatch()
    this.#stopPersistedWatch()
    for (const { handle } of this.#handles.values()) handle.removeAllListeners()
    this.#handles.clear()
  }

  async #watch(url: DocUrl, kind: Kind): Promise<void> {
    if (this.#handles.has(url) || this.#loading.has(url)) return
    this.#loading.set(url, kind)
    let handle: DocHandle<unknown>
    try {
      // Accept "unavailable": a member's feed may reach the relay after we first ask for it. The relay
      // remembers who asked and sends it when it arrives, so keep the handle and wait for it.
      handle = await this.#repo.find<unknown>(url as string as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] })
    } catch {
      this.#missing.set(url, kind)
      return
    } finally {
      this.#loading.delete(url)
    }
    this.#missing.delete(url)
    this.#handles.set(url, { handle, kind })
    handle.on('change', () => this.#schedule(url))
    handle.on('remote-heads', (payload) => void this.#onRemoteHeads(url, payload))
    if (handle.isReady()) this.#schedule(url)
    else void handle.whenReady().then(() => this.#schedule(url), () => undefined)
  }

  /** A member left: what they wrote leaves this device too (their feed and its rows). */
  async #erase(url: DocUrl): Promise<void> {
    if (this.#erased.has(url)) return
    this.#erased.add(url)
    const entry = this.#handles.get(url)
    entry?.handle.removeAllListeners()
    this.#handles.delete(url)
    this.#feeds.delete(url)
    await this.feedChecks.forget(url)
    const db = this.#db
    await db.transaction('rw', [db.posts, db.answers, db.comments, db.outcomes, db.projections], async () => {
      await db.projections.delete(url)
      await db.posts.where('feed').equals(url).delete()
      await db.answers.where('feed').equals(url).delete()
      await db.comments.where('feed').equals(url).delete()
      await db.outcomes.where('postFeed').equals(url).delete()
    })
    this.#repo.delete(url as string as AutomergeUrl)
  }

  #retryMissing(): void {
    for (const [url, kind] of this.#missing) void this.#watch(url, kind)
  }

  /** Coalesces bursts of changes: each document is projected at most once per turn. */
  #schedule(url: DocUrl): void {
    this.#scheduled.add(url)
    if (this.#flushing) return
    this.#flushing = (async () => {
      await Promise.resolve()
      while (this.#scheduled.size) {
        const batch = [...this.#scheduled]
        this.#scheduled.clear()
        for (const u of batch) await this.#written(u, () => this.#project(u))
        await this.#written(PENDING_COUNT, () => this.#countPending())
      }
      if (!this.#unwritten.size) this.#health?.recovered('index')
    })().finally(() => (this.#flushing = undefined))
  }

  /**
   * Runs a write to the index. If the device refuses it, the documents are still right in memory and
   * still sync: say so, and project `url` again on the next retry rather than failing the command.
   */
  async #written(what: DocUrl | typeof PENDING_COUNT, write: () => Promise<void>): Promise<void> {
    try {
      await write()
      this.#unwritten.delete(what)
    } catch (e) {
      this.#unwritten.add(what)
      // The cache moved on but the rows were not written: next time, compare the whole feed with the index.
      if (what !== PENDING_COUNT) this.#feeds.delete(what)
      if (!this.#health) throw e
      this.#health.failed('index', e, this.#unwritten.size)
    }
  }

  async #project(url: DocUrl): Promise<void> {
    const entry = this.#handles.get(url)
    if (!entry || !entry.handle.isReady()) return
    const doc = entry.handle.doc()
    if (entry.kind === 'neighbourhood') {
      const projection = projectNeighbourhood(doc, url)
      if (!projection) return
      // Feeds whose owner's key was unknown until now wait for it (a feed is shown only once checked).
      const waiting = projection.members.filter((m) => !this.feedChecks.knows(m.feed) && this.#handles.has(m.feed))
      this.feedChecks.learnRegistry(url, doc as NeighbourhoodDoc)
      for (const m of waiting) this.#schedule(m.feed)
      await this.#db.transaction('rw', this.#db.neighbourhoods, this.#db.members, async () => {
        await this.#db.neighbourhoods.put(projection.neighbourhood)
        await this.#db.members.where('neighbourhood').equals(url).delete()
        await this.#db.members.bulkPut(projection.members)
      })
      for (const m of projection.members) {
        if (m.status === 'left') await this.#erase(m.feed)
        else void this.#watch(m.feed, 'feed')
      }
      return
    }
    // What is shown is the owner's last valid version: changes not signed by them are left out.
    const check = await this.feedChecks.check(url, doc as A.Doc<unknown>)
    if (!check) return
    const valid = validVersion(doc as A.Doc<unknown>, check)
    const heads = A.getHeads(valid)
    const db = this.#db
    let cache = this.#feeds.get(url)
    const first = !cache
    // Someone else's feed, first seen since the app started, whose rows the index holds for this very
    // version: nothing to write. Its next change gets a full first projection (the cache is built then).
    if (first && !this.#own.has(url)) {
      const held = await db.projections.get(url)
      if (held?.version === PROJECTION_VERSION && sameHeads(held.heads, heads)) return
    }
    if (!cache) this.#feeds.set(url, (cache = new FeedProjectionCache(url)))
    const { projection, changes } = cache.update(valid)
    const tables = [db.posts, db.answers, db.comments, db.outcomes, db.projections]
    // Rows and the version they are of change together; the device's own feed (with pending marks) is not recorded.
    const recordVersion = () => (this.#own.has(url) ? db.projections.delete(url) : db.projections.put({ url, heads, version: PROJECTION_VERSION }))
    if (!first && !this.#own.has(url)) {
      // Someone else's feed seen before: write only the rows this change touched.
      const keys = (ids: readonly string[]) => ids.map((id): [string, string] => [url, id])
      const notPending = <R>(r: R) => ({ ...r, pending: false })
      const touched = [...changes.rows.map((r) => r.id), ...changes.removed.posts]
      if (!touched.length && !changes.answers.length && !changes.comments.length && !changes.removed.answers.length && !changes.removed.comments.length) return
      await db.transaction('rw', tables, async () => {
        await recordVersion()
        // Only tables that change are written: every write wakes the live queries reading that table.
        if (changes.removed.posts.length) await db.posts.bulkDelete(keys(changes.removed.posts))
        if (changes.rows.length) await db.posts.bulkPut(changes.rows.map(notPending))
        if (changes.removed.answers.length) await db.answers.bulkDelete(keys(changes.removed.answers))
        if (changes.answers.length) await db.answers.bulkPut(changes.answers.map(notPending))
        if (changes.removed.comments.length) await db.comments.bulkDelete(keys(changes.removed.comments))
        if (changes.comments.length) await db.comments.bulkPut(changes.comments.map(notPending))
        // Outcomes are keyed `${feed} ${post} ${helper}`: replace those of every post touched.
        for (const id of touched) {
          const mine = changes.outcomes.filter((o) => o.post === id)
          await replaceRows(db.outcomes, db.outcomes.where('key').startsWith(`${url} ${id} `), mine, (r) => r.key)
        }
      })
      return
    }
    // This device's own feed (whose rows say whether the relay has them yet), or a feed's first
    // projection since the app started: replace everything the feed contributed.
    const synced = this.#own.has(url) ? await this.#idsKnownToRelay(url, doc) : undefined
    const pending = <R extends { id: string }>(r: R) => ({ ...r, pending: synced ? !synced.has(r.id) : false })
    const posts: BoardPost[] = projection.rows.map(pending)
    await db.transaction('rw', tables, async () => {
      // Replace what this feed contributed: rows it no longer has are gone (deleted means deleted).
      await recordVersion()
      const byFeedAndId = (r: { feed: string; id: string }): [string, string] => [r.feed, r.id]
      await replaceRows(db.posts, db.posts.where('feed').equals(url), posts, byFeedAndId)
      await replaceRows(db.answers, db.answers.where('feed').equals(url), projection.answers.map(pending), byFeedAndId)
      await replaceRows(db.comments, db.comments.where('feed').equals(url), projection.comments.map(pending), byFeedAndId)
      await replaceRows(db.outcomes, db.outcomes.where('postFeed').equals(url), projection.outcomes, (r) => r.key)
    })
  }

  /** Post IDs present in the document as the relay last reported it. */
  async #idsKnownToRelay(url: DocUrl, doc: unknown): Promise<Set<string>> {
    const heads = await this.#relayHeads(url, doc)
    if (!heads.length) return new Set()
    const atRelay = A.view(doc as A.Doc<{ posts?: Record<string, unknown>; answers?: Record<string, unknown>; comments?: Record<string, unknown> }>, heads)
    return new Set([...Object.keys(atRelay.posts ?? {}), ...Object.keys(atRelay.answers ?? {}), ...Object.keys(atRelay.comments ?? {})])
  }

  /** The relay's last reported heads for `url`, keeping only those this device has. */
  async #relayHeads(url: DocUrl, doc: unknown): Promise<string[]> {
    const state = await this.#db.syncState.get(url)
    return (state?.relayHeads ?? []).filter((h) => A.hasHeads(doc as A.Doc<unknown>, [h]))
  }

  /**
   * What the relay's sync messages say it holds. That is its memory, which a crash loses: used only
   * with a relay that does not report what it wrote to disk (an older or upstream automerge-repo relay).
   */
  async #onRemoteHeads(url: DocUrl, payload: DocHandleRemoteHeadsPayload): Promise<void> {
    const c = this.#relay.connection
    if (c.state !== 'open' || c.persistedHeads || payload.storageId !== c.relayStorageId) return
    await this.#rememberRelayHeads(url, decodeHeads(payload.heads))
  }

  /** The heads the relay has written to disk: a change they include is acknowledged. */
  async #onPersistedHeads(url: DocUrl, heads: string[]): Promise<void> {
    // A document still being found counts: the relay answers the request that finding it sends, often
    // before the handle is ready (a phone that has only received would otherwise never have synced).
    if (!this.#handles.has(url) && !this.#own.has(url) && !this.#loading.has(url)) return
    await this.#rememberRelayHeads(url, heads)
  }

  async #rememberRelayHeads(url: DocUrl, relayHeads: string[]): Promise<void> {
    const now = Date.now()
    await this.#written(url, () =>
      this.#db.transaction('rw', this.#db.syncState, this.#db.settings, async () => {
        await this.#db.syncState.put({ url, relayHeads, at: now })
        await this.#db.settings.put({ key: 'lastRelaySync', value: now })
      }),
    )
    this.#schedule(url)
  }

  /** Counts this device's changes that the relay does not have yet, for the status bar. */
  async #countPending(): Promise<void> {
    let pending = 0
    for (const url of this.#own) {
      const entry = this.#handles.get(url)
      if (!entry?.handle.isReady()) continue
      const doc = entry.handle.doc() as A.Doc<unknown>
      pending += A.getChangesMetaSince(doc, await this.#relayHeads(url, doc)).length
    }
    const current = await this.#db.settings.get('pendingChanges')
    if (current?.value !== pending) await this.#db.settings.put({ key: 'pendingChanges', value: pending })
  }
}
