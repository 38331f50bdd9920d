/**
 * "Acknowledged" (issue 7): a change counts as synced, and the UI says so, only once the relay has it
 * on disk. The relay reports the heads it wrote (sync-server/persisted-heads.ts) to the clients that
 * ask for it; the app's own client (client/sync) and projector follow those heads.
 */
import 'fake-indexeddb/auto'
import { next as A } from '@automerge/automerge'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Repo } from '@automerge/automerge-repo'
import { NodeWSServerAdapter } from '@automerge/automerge-repo-network-websocket'
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs'
import { openDb } from '../../client/db/db.ts'
import { Projector } from '../../client/sync/projector.ts'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import { newMemberId, newPostId, randomId, type DocUrl } from '../../shared/ids.ts'
import { PERSISTED_HEADS_FEATURE, PERSISTED_HEADS_TYPE } from '../../shared/persisted-heads.ts'
import { newFeed, newPost, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { nodeClient } from '../helpers/node-client.ts'
import { rawSocket } from '../helpers/raw-socket.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { loadStoredDoc } from '../helpers/stored-doc.ts'
import { waitFor } from '../helpers/wait-for.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relay(): Promise<TestRelay> {
  const r = await startRelay({ access: 'open' })
  cleanups.push(() => r.stop())
  return r
}

function app(r: TestRelay): ClientSync {
  const sync = createClientSync({ relayUrl: r.wsUrl, WebSocket: WebSocket as never })
  cleanups.push(() => sync.repo.shutdown())
  return sync
}

describe('acknowledged changes', () => {
  it('are those whose heads the relay reports after writing them to its disk', async () => {
    const r = await relay()
    const sync = app(r)
    const told = new Map<string, string[]>()
    sync.relay.onPersistedHeads((documentId, heads) => told.set(documentId, heads))
    await waitFor(() => sync.relay.connection.state === 'open' && sync.relay.connection.persistedHeads, { message: 'the relay announces it' })

    const handle = sync.repo.create<{ n: number }>({ n: 0 })
    for (let n = 1; n <= 5; n++) handle.change((d) => (d.n = n))
    const heads = A.getHeads(handle.doc())
    await waitFor(() => told.get(handle.documentId)?.join() === heads.join(), { message: 'the relay reports the last change' })
    // Reported means written: the data folder holds it, read without the relay.
    const stored = await loadStoredDoc<{ n: number }>(r.dataDir, handle.documentId)
    expect(stored && A.hasHeads(stored, heads)).toBe(true)
    expect(stored?.n).toBe(5)
  })

  it('are reported only to clients that ask for it; stock clients keep working without it', async () => {
    const r = await relay()
    const writer = nodeClient(r.wsUrl)
    cleanups.push(() => writer.close())
    const handle = writer.repo.create<{ n: number }>({ n: 1 })
    await waitFor(async () => (await loadStoredDoc(r.dataDir, handle.documentId)) !== undefined, { message: 'the relay stores the stock client’s document' })

    const [, data] = A.generateSyncMessage(A.init(), A.initSyncState())
    const ask = async (features?: string[]) => {
      const s = await rawSocket(r.wsUrl)
      cleanups.push(async () => s.close())
      const senderId = `device-${randomId(8)}`
      s.sendCbor({ type: 'join', senderId, peerMetadata: features ? { placetteFeatures: features } : {}, supportedProtocolVersions: ['1'] })
      const peer = await s.next('peer')
      s.sendCbor({ type: 'request', senderId, targetId: peer.senderId, documentId: handle.documentId, data })
      await s.next('sync')
      return s
    }
    const placette = await ask([PERSISTED_HEADS_FEATURE])
    const persisted = await placette.next(PERSISTED_HEADS_TYPE)
    expect(persisted).toMatchObject({ documentId: handle.documentId, heads: A.getHeads(handle.doc()) })

    const stock = await ask()
    // The stock peer is answered like the Placette one, minus the report: wait for the same exchange.
    handle.change((d) => (d.n = 2))
    await waitFor(() => placette.received.filter((m) => m.type === PERSISTED_HEADS_TYPE).length === 2, { message: 'the next write is reported' })
    expect(stock.received.some((m) => m.type === PERSISTED_HEADS_TYPE)).toBe(false)
    expect(stock.received.filter((m) => m.type === 'sync').length).toBeGreaterThan(0)
  })

  it('make a post stop saying "not yet sent", and the pending count fall to zero', async () => {
    const r = await relay()
    const device = await offlinePost(r.wsUrl)
    await waitFor(async () => (await device.pendingPost()) === true, { message: 'offline, the post is not yet sent' })
    expect(await device.pendingCount()).toBeGreaterThan(0)

    device.goOnline()
    await waitFor(async () => (await device.pendingPost()) === false, { message: 'the relay wrote the post' })
    await waitFor(async () => (await device.pendingCount()) === 0, { message: 'nothing pending' })
    const state = await device.db.syncState.get(device.feed.url as DocUrl)
    const stored = await loadStoredDoc(r.dataDir, device.feed.documentId)
    expect(stored && state && A.hasHeads(stored, state.relayHeads)).toBe(true)
  })

  it('give a device that has only received a time it last synced with the relay', async () => {
    const r = await relay()
    // Jeanne's board is on the relay's disk.
    const jeanne = await offlinePost(r.wsUrl)
    jeanne.goOnline()
    await waitFor(async () => (await jeanne.pendingCount()) === 0, { message: 'Jeanne’s board is on the relay' })

    // Paul's phone joins it and writes nothing: it only receives.
    const sync = app(r)
    const { db, projector } = indexed(sync)
    const before = Date.now()
    await projector.watchNeighbourhood(jeanne.neighbourhood)
    await waitFor(async () => (await db.posts.count()) === 1, { message: 'Paul sees Jeanne’s post' })
    // Not "never synced": it has the board as the relay has it on disk.
    const last = await waitFor(async () => (await db.settings.get('lastRelaySync'))?.value as number | undefined, { message: 'a last sync is recorded' })
    expect(last).toBeGreaterThanOrEqual(before)
  })

  it('fall back, with a relay that does not report its writes, to the heads its sync messages claim', async () => {
    const stock = await stockRelay()
    const device = await offlinePost(stock.url)
    await waitFor(async () => (await device.pendingPost()) === true)
    device.goOnline()
    await waitFor(() => device.sync.relay.connection.state === 'open')
    expect(device.sync.relay.connection).toMatchObject({ persistedHeads: false })
    await waitFor(async () => (await device.pendingPost()) === false, { message: 'the stock relay has the post' })
    await waitFor(async () => (await device.pendingCount()) === 0)
  })
})

/** The app's index and projector over a device's documents, as the app runs them. */
function indexed(sync: ClientSync): { db: ReturnType<typeof openDb>; projector: Projector } {
  const db = openDb(`ack-${randomId()}`)
  const projector = new Projector(sync.repo, db, sync.relay)
  cleanups.push(async () => {
    await projector.settled()
    projector.stop()
    db.close()
  })
  return { db, projector }
}

/** A device that wrote a post while offline, with the app's projector over its own feed. */
async function offlinePost(relayUrl: string) {
  const device = new FakeDevice()
  const sync = createClientSync({ relayUrl, WebSocket: WebSocket as never, events: device as never })
  cleanups.push(() => sync.repo.shutdown())
  const { db, projector } = indexed(sync)
  const me = newMemberId()
  const n = sync.repo.create<NeighbourhoodDoc>()
  const feed = sync.repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
  n.change((d) => {
    const commune = { insee: '01001', name: 'X', postcode: '01400' }
    Object.assign(d, newNeighbourhood({ name: 'Le Bourg', commune, creator: me, creatorName: 'Jeanne', creatorFeed: feed.url as DocUrl, now: 1 }))
  })
  projector.setOwn([feed.url as DocUrl, n.url as DocUrl])
  const id = newPostId()
  feed.change((d) => {
    const p = newPost({ kind: 'request', category: 'lifts', title: 'Aller à la pharmacie', body: '' }, id, 1)
    d.posts[id] = { ...p, title: new A.ImmutableString(p.title) as unknown as string }
  })
  await projector.watchNeighbourhood(n.url as DocUrl)
  return {
    sync,
    db,
    feed,
    neighbourhood: n.url as DocUrl,
    goOnline: () => device.goOnline(),
    pendingPost: async () => (await db.posts.toArray()).find((p) => p.id === id)?.pending,
    pendingCount: async () => (await db.settings.get('pendingChanges'))?.value,
  }
}

/** automerge-repo's own sync server setup (as bench/servers/stock-sync-server.ts): it reports no writes. */
async function stockRelay(): Promise<{ url: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'placette-stock-'))
  const wss = new WebSocketServer({ noServer: true })
  const repo = new Repo({ network: [new NodeWSServerAdapter(wss as never)], storage: new NodeFSStorageAdapter(dataDir), sharePolicy: async () => false })
  const server = createServer()
  server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate()
    wss.close()
    await repo.shutdown().catch(() => undefined)
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await rm(dataDir, { recursive: true, force: true })
  })
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` }
}

/** Stands in for `window`: starts offline, so the test controls when the device reaches the relay. */
class FakeDevice extends EventTarget {
  navigator = { onLine: false }
  goOnline() {
    this.navigator.onLine = true
    this.dispatchEvent(new Event('online'))
  }
}
