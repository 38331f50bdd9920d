import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { IdbStorage } from './idb-storage.ts'
import { ResilientStorage } from './resilient-storage.ts'
import { StorageHealth } from './storage-health.ts'
import { randomId } from '../../shared/ids.ts'

// Real IndexedDB code (fake-indexeddb) whose writes throw QuotaExceededError, as a full device's do.
afterEach(() => {
  vi.restoreAllMocks()
})

const bytes = (n: number) => new Uint8Array([n, n, n])
const full = () =>
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
  })

describe('storage on a device that cannot write', () => {
  it('removes nothing a waiting snapshot replaces until that snapshot is written', async () => {
    const name = `docs-${randomId(8)}`
    const disk = new IdbStorage(name)
    await disk.save(['doc', 'incremental', 'i1'], bytes(1))
    const health = new StorageHealth({ retryDelaysMs: [] })
    const storage = new ResilientStorage(new IdbStorage(name), health)

    const spy = full()
    // A compaction: the snapshot, then the removal of the chunk it replaces.
    await storage.save(['doc', 'snapshot', 's1'], bytes(2))
    await storage.remove(['doc', 'incremental', 'i1'])
    expect(health.state).toEqual({ problem: 'quota', unsaved: { documents: 1, index: 0 } })
    // What the repo reads is the compacted document…
    expect((await storage.loadRange(['doc'])).map((c) => c.key.join('/'))).toEqual(['doc/snapshot/s1'])
    expect(await storage.load(['doc', 'incremental', 'i1'])).toBeUndefined()
    // …while the disk still holds the chunk: closing the page now loses nothing that was saved.
    expect(await disk.load(['doc', 'incremental', 'i1'])).toEqual(bytes(1))

    spy.mockRestore()
    await health.retry()
    expect(health.state.problem).toBeUndefined()
    expect((await disk.loadRange(['doc'])).map((c) => c.key.join('/'))).toEqual(['doc/snapshot/s1'])
    expect(storage.waiting).toBe(0)
  })

  it('writes what waits in the order it was asked, at the next write once there is room', async () => {
    const name = `docs-${randomId(8)}`
    const health = new StorageHealth({ retryDelaysMs: [] })
    const storage = new ResilientStorage(new IdbStorage(name), health)
    const spy = full()
    await storage.save(['doc', 'incremental', 'a'], bytes(1))
    await storage.save(['doc', 'incremental', 'b'], bytes(2))
    expect(storage.waiting).toBe(2)
    spy.mockRestore()
    await storage.save(['doc', 'incremental', 'c'], bytes(3))
    await vi.waitFor(() => expect(health.state.problem).toBeUndefined())
    const disk = new IdbStorage(name)
    expect((await disk.loadRange(['doc'])).map((c) => c.data)).toEqual([bytes(1), bytes(2), bytes(3)])
  })
})
