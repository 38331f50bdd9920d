import { next as A } from '@automerge/automerge'
import { Repo, type DocumentId } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { chooseEvictions, DocumentEvictor, type DocumentActivity } from './eviction.ts'
import { createMemoryLogger } from './log.ts'
import { reportPersistedHeads } from './persisted-heads.ts'
import { MemoryStorage } from './storage/memory-storage.ts'
import { NetworkAdapter, type Message, type PeerId } from '@automerge/automerge-repo'

const doc = (id: string, lastActive: number, syncedByClient = false): DocumentActivity => ({ id, lastActive, syncedByClient })

describe('chooseEvictions', () => {
  it('evicts a document idle for the idle time that no client syncs', () => {
    expect(chooseEvictions([doc('a', 0), doc('b', 500)], 1_000, { idleMs: 1_000, maxInMemory: 0 })).toEqual(['a'])
  })

  it('keeps an idle document a connected client is syncing', () => {
    expect(chooseEvictions([doc('a', 0, true)], 10_000, { idleMs: 1_000, maxInMemory: 0 })).toEqual([])
  })

  it('over the cap, evicts the least recently active first, synced or not, but never a busy one', () => {
    const docs = [doc('new', 9_500), doc('old', 1_000, true), doc('older', 500, true), doc('mid', 5_000, true)]
    expect(chooseEvictions(docs, 10_000, { idleMs: 0, maxInMemory: 2, busyMs: 2_000 })).toEqual(['older', 'old'])
    // Everything busy: the cap waits rather than take a document mid-exchange.
    expect(chooseEvictions(docs, 10_000, { idleMs: 0, maxInMemory: 1, busyMs: 60_000 })).toEqual([])
  })

  it('counts the idle evictions against the cap', () => {
    const docs = [doc('idle', 0), doc('a', 8_000, true), doc('b', 7_000, true)]
    expect(chooseEvictions(docs, 10_000, { idleMs: 5_000, maxInMemory: 2, busyMs: 1_000 })).toEqual(['idle'])
  })

  it('evicts nothing when both rules are off', () => {
    expect(chooseEvictions([doc('a', 0)], 1e9, { idleMs: 0, maxInMemory: 0 })).toEqual([])
  })
})

class SilentNetwork extends NetworkAdapter {
  isReady = () => true
  whenReady = () => Promise.resolve()
  connect(peerId: PeerId): void {
    this.peerId = peerId
  }
  disconnect(): void {}
  send(_message: Message): void {}
}

describe('DocumentEvictor', () => {
  const repos: Repo[] = []
  afterEach(async () => {
    for (const repo of repos.splice(0)) await repo.shutdown().catch(() => undefined)
  })

  const setup = () => {
    const storage = new MemoryStorage()
    const repo = new Repo({ storage, network: [new SilentNetwork()], peerId: 'relay' as PeerId, saveDebounceRate: 0 })
    repos.push(repo)
    const { log } = createMemoryLogger()
    const persisted = reportPersistedHeads(repo, new SilentNetwork(), log)
    let now = 0
    const evictor = new DocumentEvictor({ repo, persisted, log, policy: { idleMs: 1_000, maxInMemory: 0 }, now: () => now })
    return { storage, repo, evictor, advance: (ms: number) => (now += ms), persistedHeads: (id: DocumentId) => persisted.persistedHeads(id) }
  }

  it('writes an idle document before evicting it, and it loads again whole', async () => {
    const { storage, repo, evictor, advance, persistedHeads } = setup()
    const handle = repo.create<{ n: number }>({ n: 1 })
    const id = handle.documentId
    await evictor.scan()
    advance(1_000)
    // Its save waits for a timer: not on disk when the evictor looks, so the evictor writes it.
    handle.change((d) => (d.n = 2))
    const heads = A.getHeads(handle.doc())
    await evictor.scan()
    expect(repo.handles[id]).toBe(handle)
    advance(1_000)
    await evictor.scan()
    expect(repo.handles[id]).toBeUndefined()
    expect(evictor.evicted).toBe(1)
    // Two turns of the timer queue: automerge-repo's save timer (0 ms throttle here) has fired. Left
    // to itself, removeFromCache makes that save write the unloaded, empty document over the real one.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0))
    expect(persistedHeads(id)).toEqual(heads)

    // What is stored is the document, not the empty one the unloaded handle holds (automerge-repo #435).
    const fresh = new Repo({ storage, network: [], peerId: 'other' as PeerId })
    repos.push(fresh)
    const again = await fresh.find<{ n: number }>(id)
    expect(again.doc()).toEqual({ n: 2 })
    expect(A.getHeads(again.doc())).toEqual(heads)
    // And the same repo loads it again too.
    expect((await repo.find<{ n: number }>(id)).doc()).toEqual({ n: 2 })
  })

  it('keeps a document that changed since the idle time began', async () => {
    const { repo, evictor, advance } = setup()
    const handle = repo.create<{ n: number }>({ n: 1 })
    await evictor.scan()
    advance(900)
    handle.change((d) => (d.n = 2))
    await evictor.scan()
    advance(900)
    await evictor.scan()
    expect(repo.handles[handle.documentId as DocumentId]).toBe(handle)
    advance(100)
    await evictor.scan()
    expect(repo.handles[handle.documentId as DocumentId]).toBeUndefined()
  })
})
