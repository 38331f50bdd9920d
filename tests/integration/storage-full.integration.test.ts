import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { Repo, type AutomergeUrl } from '@automerge/automerge-repo'
import { createClientSync } from '../../client/sync/repo.ts'
import { IdbStorage } from '../../client/sync/idb-storage.ts'
import { ResilientStorage } from '../../client/sync/resilient-storage.ts'
import { StorageHealth } from '../../client/sync/storage-health.ts'
import { Projector } from '../../client/sync/projector.ts'
import { openDb } from '../../client/db/db.ts'
import { newFeed, newPost, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { newMemberId, newPostId, randomId, type DocUrl } from '../../shared/ids.ts'
import { startRelay } from '../helpers/relay.ts'
import { nodeClient } from '../helpers/node-client.ts'
import { waitFor } from '../helpers/wait-for.ts'

// A device whose IndexedDB refuses every write, as a full phone does: IndexedDB's own put throws the
// QuotaExceededError DOMException a browser throws. Dexie and the documents' storage run for real.

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

function fillTheDisk() {
  const full = () => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
  }
  const spies = [vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(full), vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(full)]
  return { freeSomeSpace: () => spies.forEach((s) => s.mockRestore()) }
}

describe('a device that runs out of space', () => {
  it('keeps a post in memory, still sends it, says so, and writes it once there is room', async () => {
    const relay = await startRelay({ access: 'open' })
    cleanups.push(() => relay.stop())
    const docsDb = `docs-${randomId(8)}`
    const health = new StorageHealth({ retryDelaysMs: [] })
    cleanups.push(() => health.stop())
    const db = openDb(`index-${randomId(8)}`)
    cleanups.push(() => db.close())
    const app = createClientSync({ relayUrl: relay.wsUrl, WebSocket: WebSocket as never, storage: new ResilientStorage(new IdbStorage(docsDb), health) })
    cleanups.push(() => app.repo.shutdown())
    const projector = new Projector(app.repo, db, app.relay, health)
    cleanups.push(() => projector.stop())

    const me = newMemberId()
    const n = app.repo.create<NeighbourhoodDoc>()
    const feed = app.repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
    n.change((d) => Object.assign(d, newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Odile', creatorFeed: feed.url as DocUrl, now: 1 })))
    await app.repo.flush()
    projector.setOwn([feed.url as DocUrl, n.url as DocUrl])
    await projector.watchNeighbourhood(n.url as DocUrl)
    await projector.settled()

    const disk = fillTheDisk()
    const id = newPostId()
    feed.change((d) => {
      d.posts[id] = newPost({ kind: 'request', category: 'lifts', title: 'Conduire au marché', body: '' }, id, Date.now())
    })
    await app.repo.flush() // resolves: the write waits in memory instead of failing the command
    await projector.settled()
    expect(health.state.problem).toBe('quota')
    expect(health.state.unsaved.documents).toBeGreaterThan(0)
    expect(health.state.unsaved.index).toBeGreaterThan(0)
    expect(feed.doc().posts[id]?.title).toBe('Conduire au marché')
    expect(await db.posts.get([feed.url, id])).toBeUndefined()

    // Still sent: a neighbour receives it through the relay while this device cannot write.
    const other = nodeClient(relay.wsUrl)
    cleanups.push(() => other.close())
    const seen = await other.findEventually<FeedDoc>(feed.url as AutomergeUrl)
    await waitFor(() => seen.doc().posts[id], { message: 'the neighbour sees the post' })

    // Still failing: a retry changes nothing and loses nothing.
    await health.retry()
    expect(health.state.problem).toBe('quota')

    disk.freeSomeSpace()
    await health.retry()
    expect(health.state).toEqual({ problem: undefined, unsaved: { documents: 0, index: 0 } })
    expect((await db.posts.get([feed.url, id]))?.title).toBe('Conduire au marché')

    // On disk now: the device reopens its documents with no network and finds the post.
    const reopened = new Repo({ network: [], storage: new IdbStorage(docsDb) })
    cleanups.push(() => reopened.shutdown())
    const again = await reopened.find<FeedDoc>(feed.url as AutomergeUrl)
    expect(again.doc().posts[id]?.title).toBe('Conduire au marché')
  })
})
