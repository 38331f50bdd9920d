import * as A from '@automerge/automerge'
import { decodeHeads, type AutomergeUrl, type DocHandle, type DocHandleRemoteHeadsPayload, type Repo } from '@automerge/automerge-repo'
import { projectFeed, projectNeighbourhood } from '../../shared/projector.ts'
import type { DocUrl } from '../../shared/ids.ts'
import type { Table } from 'dexie'
import { INDEX_TABLES, type BoardPost, type PlacetteDb } from '../db/db.ts'
import type { RelayAdapter } from './websocket-adapter.ts'

type Kind = 'neighbourhood' | 'feed'

/** Replaces the rows a feed contributed to a table keyed by [feed, id]. */
async function replaceByFeed<R extends { feed: string; id: string }>(table: Table<R, [string, string]>, feed: DocUrl, rows: R[]): Promise<void> {
  const keep = new Set(rows.map((r) => r.id))
  const stale = await table.where('feed').equals(feed).primaryKeys()
  await table.bulkDelete(stale.filter(([, id]) => !keep.has(id)))
  await table.bulkPut(rows)
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
  #flushing: Promise<void> | undefined
  #stopRelayWatch: () => void
  #stopPersistedWatch: () => void

  constructor(repo: Repo, db: PlacetteDb, relay: RelayAdapter) {
    this.#repo = repo
    this.#db = db
    this.#relay = relay
    this.#stopRelayWatch = relay.onConnection((c) => {
      if (c.state === 'open') this.#retryMissing()
    })
    this.#stopPersistedWatch = relay.onPersistedHeads((documentId, heads) => void this.#onPersistedHeads(`automerge:${documentId}`, heads))
  }

  /** Marks documents as this device's own writing, whose unsynced changes the status bar counts. */
  setOwn(urls: readonly DocUrl[]): void {
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
        for (const u of batch) await this.#project(u)
        await this.#countPending()
      }
    })().finally(() => (this.#flushing = undefined))
  }

  async #project(url: DocUrl): Promise<void> {
    const entry = this.#handles.get(url)
    if (!entry || !entry.handle.isReady()) return
    const doc = entry.handle.doc()
    if (entry.kind === 'neighbourhood') {
      const projection = projectNeighbourhood(doc, url)
      if (!projection) return
      await this.#db.transaction('rw', this.#db.neighbourhoods, this.#db.members, async () => {
        await this.#db.neighbourhoods.put(projection.neighbourhood)
        await this.#db.members.where('neighbourhood').equals(url).delete()
        await this.#db.members.bulkPut(projection.members)
      })
      for (const m of projection.members) void this.#watch(m.feed, 'feed')
      return
    }
    const projection = projectFeed(doc, url)
    const synced = this.#own.has(url) ? await this.#idsKnownToRelay(url, doc) : undefined
    const pending = <R extends { id: string }>(r: R) => ({ ...r, pending: synced ? !synced.has(r.id) : false })
    const posts: BoardPost[] = projection.rows.map(pending)
    const db = this.#db
    await db.transaction('rw', [db.posts, db.answers, db.comments, db.outcomes], async () => {
      // Replace what this feed contributed: rows it no longer has are gone (deleted means deleted).
      await replaceByFeed(db.posts, url, posts)
      await replaceByFeed(db.answers, url, projection.answers.map(pending))
      await replaceByFeed(db.comments, url, projection.comments.map(pending))
      await db.outcomes.where('postFeed').equals(url).delete()
      await db.outcomes.bulkPut(projection.outcomes)
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
    if (!this.#handles.has(url) && !this.#own.has(url)) return
    await this.#rememberRelayHeads(url, heads)
  }

  async #rememberRelayHeads(url: DocUrl, relayHeads: string[]): Promise<void> {
    const now = Date.now()
    await this.#db.transaction('rw', this.#db.syncState, this.#db.settings, async () => {
      await this.#db.syncState.put({ url, relayHeads, at: now })
      await this.#db.settings.put({ key: 'lastRelaySync', value: now })
    })
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
