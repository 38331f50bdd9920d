/**
 * The heads digest (DESIGN.md §2, shared/heads-digest.ts): a reconnect that finds nothing new costs
 * under 1 KB on the wire whatever the number of documents, and no change is lost for it — made offline
 * on the device or on the relay, or made later to a document the digest found unchanged. Stock
 * automerge-repo clients still sync, and a malformed digest closes only its own socket.
 */
import { Repo, type AutomergeUrl, type DocHandle, type DocumentId, type StorageAdapterInterface } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../shared/protocol.ts'
import { BUCKET_HASH_BYTES, DIGEST_BUCKETS } from '../../shared/heads-digest.ts'
import { MemoryStorage } from '../../sync-server/storage/memory-storage.ts'
import { nodeClient } from '../helpers/node-client.ts'
import { rawSocket } from '../helpers/raw-socket.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { appDevice, reconnect, relayHolds, type AppDevice } from '../helpers/app-device.ts'
import { waitFor } from '../helpers/wait-for.ts'

const FEEDS = 60

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Device = AppDevice

function device(r: TestRelay, storage?: StorageAdapterInterface): Device {
  const d = appDevice(r.wsUrl, { storage })
  cleanups.push(() => d.sync.repo.shutdown())
  return d
}

/** A neighbourhood document listing `FEEDS` member feeds, all made on `d`. */
function board(d: Device): { n: DocHandle<unknown>; feeds: DocHandle<{ posts: string[] }>[] } {
  const feeds = Array.from({ length: FEEDS }, (_, i) => d.sync.repo.create<{ posts: string[] }>({ posts: [`post ${i}`] }))
  const members = Object.fromEntries(feeds.map((f, i) => [`m${i}`, { feed: f.url }]))
  const n = d.sync.repo.create({ type: 'placette/neighbourhood', members })
  return { n, feeds }
}

/** An open relay and a device whose board the relay holds at the device's heads. */
async function settled() {
  const r = await startRelay({ access: 'open' })
  cleanups.push(() => r.stop())
  const d = device(r)
  const { n, feeds } = board(d)
  await relayHolds(d, [n, ...feeds])
  return { r, d, n, feeds }
}

describe('the heads digest', () => {
  it('makes a reconnect with nothing new cost under 1 KB, with no document synced', async () => {
    const { d, n, feeds } = await settled()

    // Reconnect once so that the counting starts from a settled state, then again to measure.
    await reconnect(d)
    d.syncMessages.clear()
    const before = d.wireBytes()
    await reconnect(d)
    const bytes = d.wireBytes() - before
    // Barrier: a new document made after the answer reaches the relay, so anything the relay or the
    // device would have sent about the board before it has crossed the socket by then.
    const probe = d.sync.repo.create({ probe: true })
    await relayHolds(d, [probe])
    const boardMessages = [n, ...feeds].reduce((sum, h) => sum + (d.syncMessages.get(h.documentId) ?? 0), 0)
    expect(boardMessages).toBe(0)
    expect(bytes).toBeLessThan(1000)
  })

  it('makes a cold start with nothing new sync nothing either: the join waits for the documents to load', async () => {
    const r = await startRelay({ access: 'open' })
    cleanups.push(() => r.stop())
    const storage = new MemoryStorage()
    const first = device(r, storage)
    const { n, feeds } = board(first)
    await relayHolds(first, [n, ...feeds])
    await first.sync.close()

    // The app starting again: a new repo on the same storage; the projector asks for the neighbourhood
    // (its feeds follow from its registry) while the socket opens.
    const again = device(r, storage)
    void again.sync.repo.find(n.url as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] })
    await waitFor(() => again.replies > 0, { message: 'the relay answers the join' })
    const probe = again.sync.repo.create({ probe: true })
    await relayHolds(again, [probe])
    const boardMessages = [n, ...feeds].reduce((sum, h) => sum + (again.syncMessages.get(h.documentId) ?? 0), 0)
    expect(boardMessages).toBe(0)
    expect(feeds.every((f) => again.sync.repo.handles[f.documentId]?.isReady())).toBe(true)
  })

  it('syncs changes made offline on the device and on the relay, and later changes to unchanged documents', async () => {
    const { r, d: a, feeds } = await settled()
    const b = nodeClient(r.wsUrl)
    cleanups.push(() => b.close())
    const bFeeds = await Promise.all(feeds.map((f) => b.findEventually<{ posts: string[] }>(f.url)))

    a.window.set(false)
    await waitFor(() => a.sync.relay.connection.state === 'offline', { message: 'A goes offline' })
    feeds[0]!.change((d) => void d.posts.push('written offline on A'))
    bFeeds[1]!.change((d) => void d.posts.push('written on B while A was away'))
    await waitFor(() => r.relay.stats().peers === 1, { message: 'the relay sees A gone' })
    const relayHasB = async () => {
      const check = nodeClient(r.wsUrl)
      try {
        const h = await check.findEventually<{ posts: string[] }>(feeds[1]!.url)
        return h.doc().posts.includes('written on B while A was away')
      } finally {
        await check.close()
      }
    }
    await waitFor(relayHasB, { message: 'the relay has B’s change' })

    const replies = a.replies
    a.window.set(true)
    await waitFor(() => a.replies > replies, { message: 'the relay answers A’s digest' })
    await waitFor(() => feeds[1]!.doc().posts.includes('written on B while A was away'), { message: 'A gets B’s change' })
    await waitFor(() => bFeeds[0]!.doc().posts.includes('written offline on A'), { message: 'B gets A’s offline change' })

    // Documents the digest found unchanged still sync when they change later, both ways.
    feeds[5]!.change((d) => void d.posts.push('later on A'))
    bFeeds[6]!.change((d) => void d.posts.push('later on B'))
    await waitFor(() => bFeeds[5]!.doc().posts.includes('later on A'), { message: 'B gets A’s later change' })
    await waitFor(() => feeds[6]!.doc().posts.includes('later on B'), { message: 'A gets B’s later change' })
  })

  it('leaves stock automerge-repo clients syncing as before', async () => {
    const { r, feeds } = await settled()
    const stock = nodeClient(r.wsUrl)
    cleanups.push(() => stock.close())
    const theirs = await stock.findEventually<{ posts: string[] }>(feeds[3]!.url)
    theirs.change((d) => void d.posts.push('from a stock client'))
    await waitFor(() => feeds[3]!.doc().posts.includes('from a stock client'), { message: 'the app gets the stock client’s change' })
    feeds[3]!.change((d) => void d.posts.push('from the app'))
    await waitFor(() => theirs.doc().posts.includes('from the app'), { message: 'the stock client gets the app’s change' })
  })

  it('closes only the socket that sends a malformed digest', async () => {
    const { r, d: good, n, feeds } = await settled()

    const bad = await rawSocket(r.wsUrl)
    cleanups.push(async () => bad.close())
    const digest = { neighbourhood: n.documentId, buckets: new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES - 1) }
    bad.sendCbor({ type: 'join', senderId: 'bad-peer', peerMetadata: { placetteDigest: [digest] }, supportedProtocolVersions: ['1'] })
    expect((await bad.closed).code).toBe(CloseCode.protocol)

    feeds[0]!.change((d) => void d.posts.push('still syncing'))
    await relayHolds(good, [feeds[0]!])
  })

  it('tells a client nothing about documents of a neighbourhood it cannot name', async () => {
    const { r } = await settled()
    // A peer that sends a digest for a document ID the relay does not hold hears "everything differs"
    // and no entry: the same answer as for a neighbourhood it may not read.
    const raw = await rawSocket(r.wsUrl)
    cleanups.push(async () => raw.close())
    const unknown = new Repo().create({}).documentId as DocumentId
    const digest = { neighbourhood: unknown, buckets: new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES) }
    raw.sendCbor({ type: 'join', senderId: 'curious-peer', peerMetadata: { placetteDigest: [digest] }, supportedProtocolVersions: ['1'] })
    const peer = await raw.next('peer')
    const [reply] = (peer.peerMetadata as { placetteDigest: Array<{ differ: number; entries?: Uint8Array }> }).placetteDigest
    expect(reply!.differ).toBe(2 ** DIGEST_BUCKETS - 1)
    expect(reply!.entries).toBeUndefined()
  })
})
