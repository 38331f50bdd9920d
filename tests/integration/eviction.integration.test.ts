/**
 * Idle documents leave the relay's memory (sync-server/eviction.ts) and come back when asked for:
 * real sockets, real files, stock automerge-repo clients and the app's member devices.
 */
import { get } from 'node:http'
import WebSocket from 'ws'
import { next as A } from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import type { AutomergeUrl, DocHandle } from '@automerge/automerge-repo'
import { encodeKey, generateMemberKeys } from '../../shared/identity.ts'
import { createInvitation } from '../../shared/invitation.ts'
import { newFeed, type FeedDoc } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { DocUrl, PostId } from '../../shared/ids.ts'
import { listFileStorageFirstParts } from '../../sync-server/storage/stored-documents.ts'
import { createClientSync } from '../../client/sync/repo.ts'
import { createNeighbourhoodAs, findOrNot, memberDevice } from '../helpers/member.ts'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { relayFixtures } from '../helpers/fixtures.ts'
import { waitFor } from '../helpers/wait-for.ts'

interface Board {
  posts: string[]
}

const { relay, client, cleanups } = relayFixtures()

const docId = (url: string) => url.replace(/^automerge:/, '')

/** The relay's documents-in-memory gauge, as Prometheus reads it. */
function documentsInMemory(r: TestRelay): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${r.url}/metrics`, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => {
        const line = body.split('\n').find((l) => l.startsWith('placette_relay_documents_in_memory '))
        resolve(Number(line?.split(' ')[1]))
      })
    }).on('error', reject)
  })
}

/** A board written in several changes, until the relay has it on disk. */
async function writeBoard(c: NodeClient, r: TestRelay, posts: string[]): Promise<DocHandle<Board>> {
  const board = c.repo.create<Board>({ posts: [] })
  for (const post of posts) board.change((d) => void d.posts.push(post))
  await waitFor(async () => (await listFileStorageFirstParts(r.dataDir)).includes(board.documentId), { message: 'the relay stored the board' })
  return board
}

describe('evicting idle documents', () => {
  it('evicts documents touched then idle, and serves one again with all its changes to a new client', async () => {
    const r = await relay({ evictIdleMs: 200, maxDocumentsInMemory: 0 })
    const writer = client(r.wsUrl)
    const boards = await Promise.all([1, 2, 3].map((n) => writeBoard(writer, r, [`annonce ${n}a`, `annonce ${n}b`, `annonce ${n}c`])))
    await waitFor(() => r.relay.stats().documents === 3, { message: 'the relay holds the three boards' })
    await writer.close()

    await waitFor(async () => (await documentsInMemory(r)) === 0, { message: '/metrics says no document is in memory' })
    expect(r.relay.stats().documentsEvicted).toBe(3)

    const reader = client(r.wsUrl)
    const again = await reader.findEventually<Board>(boards[1]!.url)
    await waitFor(() => again.doc().posts.length === 3, { message: 'the new client has every change' })
    expect(again.doc().posts).toEqual(['annonce 2a', 'annonce 2b', 'annonce 2c'])
    expect(r.relay.stats().documents).toBe(1)
  })

  it('accepts a change a connected client sends to a document evicted under it, and keeps it on disk', async () => {
    // Over the cap, even a document a client has open goes once quiet.
    const r = await relay({ evictIdleMs: 0, maxDocumentsInMemory: 1 })
    const writer = client(r.wsUrl)
    const first = await writeBoard(writer, r, ['vélo à prêter'])
    const second = await writeBoard(writer, r, ['tondeuse'])
    await waitFor(() => r.relay.stats().documentsEvicted >= 1 && r.relay.stats().documents <= 1, { timeout: 15_000, message: 'the relay evicts one board' })

    // The writer does not know: it sends its next changes to both.
    first.change((d) => void d.posts.push('vélo prêté'))
    second.change((d) => void d.posts.push('tondeuse prêtée'))
    const reader = client(r.wsUrl)
    const seenFirst = await reader.findEventually<Board>(first.url)
    const seenSecond = await reader.findEventually<Board>(second.url)
    await waitFor(() => seenFirst.doc().posts.includes('vélo prêté') && seenSecond.doc().posts.includes('tondeuse prêtée'), { message: 'a new client sees both changes' })

    await reader.close()
    await writer.close()
    await r.restart()
    const later = client(r.wsUrl)
    const fromDisk = await later.findEventually<Board>(first.url)
    await waitFor(() => fromDisk.doc().posts.includes('vélo prêté'), { message: 'the change is on disk after a restart' })
    expect(fromDisk.doc().posts).toEqual(['vélo à prêter', 'vélo prêté'])
  })

  it('does not evict a document a connected client is still syncing', async () => {
    const r = await relay({ evictIdleMs: 200, maxDocumentsInMemory: 0 })
    const stays = client(r.wsUrl)
    const kept = await writeBoard(stays, r, ['soupe'])
    const leaves = client(r.wsUrl)
    await writeBoard(leaves, r, ['perceuse'])
    await leaves.close()
    // The kept board was idle longer than the one that goes: it would go first, if it went at all.
    await waitFor(() => r.relay.stats().documentsEvicted === 1, { message: 'the relay evicts the board whose client left' })
    expect(r.relay.stats().documents).toBe(1)

    const other = client(r.wsUrl)
    const seen = await other.findEventually<Board>(kept.url)
    kept.change((d) => void d.posts.push('soupe chaude'))
    await waitFor(() => seen.doc().posts.includes('soupe chaude'), { message: 'the kept board still syncs' })
    expect(r.relay.stats().documentsEvicted).toBe(1)
  })
})

describe('evicting idle documents behind the gate', () => {
  it('lets a newcomer join an evicted neighbourhood and read an evicted feed; the référent sees them', async () => {
    const r = await startRelay({ evictIdleMs: 200, maxDocumentsInMemory: 0 })
    cleanups.push(() => r.stop())
    const referent = memberDevice(r.wsUrl, generateMemberKeys(), {})
    const { n, feed } = createNeighbourhoodAs(referent, 'Le Bourg')
    const id = 'p' + '1'.repeat(21)
    feed.change((d) => {
      d.posts[id as PostId] = { id, kind: 'offer', category: 'other', title: 'Prête une échelle', body: '', createdAt: Date.now(), status: 'open' } as never
    })
    await waitFor(async () => {
      const stored = await listFileStorageFirstParts(r.dataDir)
      return stored.includes(docId(n.url)) && stored.includes(docId(feed.url))
    }, { message: 'the relay stored the neighbourhood and the feed' })
    await waitFor(() => r.relay.stats().documents >= 2, { message: 'the relay holds them' })
    const token = createInvitation({ neighbourhood: docId(n.url), by: referent.id, validDays: 7, uses: 3, now: Date.now() }, referent.keys.secretKey)
    await referent.sync.close()
    await waitFor(() => r.relay.stats().documents === 0, { message: 'the relay evicts them' })

    const newcomer = memberDevice(r.wsUrl, generateMemberKeys(), { n: [docId(n.url)], inv: [token] })
    cleanups.push(() => newcomer.sync.close())
    const theirN = await findOrNot<NeighbourhoodDoc>(newcomer.sync.repo, n.url, 10_000)
    expect(theirN?.doc().name).toBe('Le Bourg')
    const theirFeed = newcomer.sync.repo.create<FeedDoc>(newFeed(n.url as DocUrl, newcomer.id))
    theirN!.change((d) => {
      d.members[newcomer.id] = { displayName: 'Voisine', joinedAt: Date.now(), feed: theirFeed.url as DocUrl, publicKey: encodeKey(newcomer.keys.publicKey), invitation: token }
    })
    const read = await findOrNot<FeedDoc>(newcomer.sync.repo, feed.url as AutomergeUrl, 10_000)
    await waitFor(() => Object.values(read?.doc().posts ?? {}).some((p) => String(p.title) === 'Prête une échelle'), { message: 'the newcomer reads the référent’s feed' })
    expect(newcomer.closes).toEqual([])

    const back = memberDevice(r.wsUrl, referent.keys, { n: [docId(n.url)] })
    cleanups.push(() => back.sync.close())
    const seen = await findOrNot<NeighbourhoodDoc>(back.sync.repo, n.url, 10_000)
    await waitFor(() => seen?.doc().members[newcomer.id], { message: 'the référent sees the newcomer' })
  })
})

/** Stands in for `window`: the device's idea of whether it is online. */
class FakeWindow extends EventTarget {
  navigator = { onLine: true }
  set(online: boolean) {
    this.navigator.onLine = online
    this.dispatchEvent(new Event(online ? 'online' : 'offline'))
  }
}

describe('evicting idle documents and the heads digest', () => {
  it('syncs a change to an evicted document with a device whose digest found it unchanged', async () => {
    const r = await relay({ evictIdleMs: 200, maxDocumentsInMemory: 0 })
    const window = new FakeWindow()
    const device = createClientSync({ relayUrl: r.wsUrl, WebSocket: WebSocket as never, events: window as never })
    cleanups.push(() => device.repo.shutdown())
    const persisted = new Map<string, string[]>()
    let replies = 0
    device.relay.onPersistedHeads((id, heads) => persisted.set(id, heads))
    device.relay.onRelayOpen(() => replies++)
    const feeds = [0, 1, 2].map((i) => device.repo.create<Board>({ posts: [`post ${i}`] }))
    const n = device.repo.create({ type: 'placette/neighbourhood', members: Object.fromEntries(feeds.map((f, i) => [`m${i}`, { feed: f.url }])) })
    const onRelayDisk = (h: DocHandle<unknown>) => {
      const heads = A.getHeads(h.doc() as A.Doc<unknown>)
      const on = persisted.get(h.documentId)
      return !!on && on.length === heads.length && on.every((x) => heads.includes(x))
    }
    await waitFor(() => [n, ...feeds].every(onRelayDisk), { message: 'the relay writes the board' })

    window.set(false)
    await waitFor(() => r.relay.stats().documents === 0, { message: 'the relay evicts the board once the device is gone' })
    const before = replies
    window.set(true)
    await waitFor(() => replies > before, { message: 'the relay answers the digest' })
    // The digest loaded the board to answer; nobody syncs it, so it goes again.
    await waitFor(() => r.relay.stats().documents === 0, { message: 'the relay evicts the board again' })

    const other = client(r.wsUrl)
    const theirs = await other.findEventually<Board>(feeds[1]!.url)
    theirs.change((d) => void d.posts.push('from another client'))
    await waitFor(() => feeds[1]!.doc().posts.includes('from another client'), { message: 'the device gets the change' })
  })
})

describe('evicting idle documents on a relay with an upstream', () => {
  it('evicts with the upstream connected, takes the upstream’s later changes, and sends up what changed while the line was down', async () => {
    const region = await relay({})
    const hall = await relay({ upstream: [region.wsUrl], evictIdleMs: 200, maxDocumentsInMemory: 0 })
    const upstreamConnections = () => hall.logs.filter((l) => l.msg === 'upstream connected').length
    await waitFor(() => upstreamConnections() === 1, { message: 'the hall relay connects upstream' })
    const atHall = client(hall.wsUrl)
    const board = await writeBoard(atHall, hall, ['soupe'])
    const atHome = client(region.wsUrl)
    const seenAtHome = await atHome.findEventually<Board>(board.url)
    await atHall.close()
    await waitFor(() => hall.relay.stats().documents === 0, { message: 'the hall relay evicts the board, its upstream still connected' })

    // A change upstream reaches the evicted document, and a client at the hall later.
    seenAtHome.change((d) => void d.posts.push('du pain, de la maison'))
    const later = client(hall.wsUrl)
    const atHallAgain = await later.findEventually<Board>(board.url)
    await waitFor(() => atHallAgain.doc().posts.includes('du pain, de la maison'), { message: 'the hall has the change from home' })
    await later.close()

    // The line goes down; a change at the hall; the document is evicted; the line comes back.
    await region.relay.close()
    await waitFor(() => hall.logs.some((l) => l.msg === 'upstream disconnected'), { message: 'the hall relay sees the line down' })
    const duringCut = client(hall.wsUrl)
    const atHallCut = await duringCut.findEventually<Board>(board.url)
    atHallCut.change((d) => void d.posts.push('écrit pendant la coupure'))
    await waitFor(async () => {
      const probe = nodeClient(hall.wsUrl)
      try {
        return (await probe.findEventually<Board>(board.url)).doc().posts.includes('écrit pendant la coupure')
      } finally {
        await probe.close()
      }
    }, { message: 'the hall relay has the change' })
    await duringCut.close()
    await waitFor(() => hall.relay.stats().documents === 0, { message: 'the hall relay evicts it again' })
    await region.restart({ samePort: true })
    await waitFor(() => upstreamConnections() === 2, { message: 'the hall relay reconnects upstream' })
    const home = client(region.wsUrl)
    const fromRegion = await home.findEventually<Board>(board.url)
    await waitFor(() => fromRegion.doc().posts.includes('écrit pendant la coupure'), { timeout: 15_000, message: 'the region gets the change made during the cut' })
  })
})
