import type { StorageKey } from '@automerge/automerge-repo/slim'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStorage } from './memory-storage.ts'
import { runStorageContract } from './storage-contract.ts'
import { cacheSyncStates, isSyncStateKey } from './sync-state-cache.ts'

runStorageContract('sync states cached in memory over MemoryStorage', () => cacheSyncStates(new MemoryStorage()))

const DOC = '2jZzs4tR7Ev8Pn9cQwBNaZkdNcHk'
const bytes = (n: number) => new Uint8Array([n])

/** A memory store that counts its writes. */
function countingStore() {
  const inner = new MemoryStorage()
  const saved: StorageKey[] = []
  const save = inner.save.bind(inner)
  inner.save = async (key, data) => {
    saved.push(key)
    return save(key, data)
  }
  return { inner, saved }
}

describe('cacheSyncStates', () => {
  afterEach(() => void vi.useRealTimers())

  it('tells sync-state keys from the rest', () => {
    expect(isSyncStateKey([DOC, 'sync-state', 'storage-1'])).toBe(true)
    expect(isSyncStateKey([DOC, 'incremental', 'abc'])).toBe(false)
    expect(isSyncStateKey(['storage-adapter-id'])).toBe(false)
  })

  it('writes documents at once but a sync state only once per period, its latest version', async () => {
    vi.useFakeTimers()
    const { inner, saved } = countingStore()
    const cache = cacheSyncStates(inner, { flushMs: 1000 })
    await cache.save([DOC, 'incremental', 'h1'], bytes(1))
    expect(saved).toEqual([[DOC, 'incremental', 'h1']])
    for (let n = 0; n < 5; n++) await cache.save([DOC, 'sync-state', 'peer-a'], bytes(n))
    expect(saved).toHaveLength(1)
    // Served from memory meanwhile, newest first.
    expect(await cache.load([DOC, 'sync-state', 'peer-a'])).toEqual(bytes(4))
    expect(await cache.loadRange([DOC])).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1000)
    await cache.flush()
    expect(saved).toEqual([
      [DOC, 'incremental', 'h1'],
      [DOC, 'sync-state', 'peer-a'],
    ])
    expect(await inner.load([DOC, 'sync-state', 'peer-a'])).toEqual(bytes(4))
  })

  it('writes every pending sync state on close', async () => {
    const { inner } = countingStore()
    const cache = cacheSyncStates(inner, { flushMs: 60_000 })
    await cache.save([DOC, 'sync-state', 'peer-a'], bytes(7))
    await cache.save([DOC, 'sync-state', 'peer-b'], bytes(8))
    expect(await inner.loadRange([DOC, 'sync-state'])).toEqual([])
    await cache.close()
    expect(await inner.load([DOC, 'sync-state', 'peer-a'])).toEqual(bytes(7))
    expect(await inner.load([DOC, 'sync-state', 'peer-b'])).toEqual(bytes(8))
  })

  it('never writes back a sync state of a document removed before the flush', async () => {
    const { inner, saved } = countingStore()
    const cache = cacheSyncStates(inner, { flushMs: 60_000 })
    await cache.save([DOC, 'sync-state', 'peer-a'], bytes(1))
    await cache.removeRange([DOC])
    expect(await cache.load([DOC, 'sync-state', 'peer-a'])).toBeUndefined()
    await cache.close()
    expect(saved).toEqual([])
  })

  it('serves the newer pending sync state over the one on disk', async () => {
    const inner = new MemoryStorage()
    await inner.save([DOC, 'sync-state', 'peer-a'], bytes(1))
    const cache = cacheSyncStates(inner, { flushMs: 60_000 })
    await cache.save([DOC, 'sync-state', 'peer-a'], bytes(2))
    expect(await cache.load([DOC, 'sync-state', 'peer-a'])).toEqual(bytes(2))
    expect(await cache.loadRange([DOC, 'sync-state'])).toEqual([{ key: [DOC, 'sync-state', 'peer-a'], data: bytes(2) }])
    await cache.close()
  })

  it('writes sync states without fsync where the store offers it, documents durably', async () => {
    const inner = new MemoryStorage()
    const durable: StorageKey[] = []
    const cached: StorageKey[] = []
    const save = inner.save.bind(inner)
    const store = Object.assign(inner, {
      save: async (key: StorageKey, data: Uint8Array) => (durable.push(key), save(key, data)),
      saveWithoutSync: async (key: StorageKey, data: Uint8Array) => (cached.push(key), save(key, data)),
    })
    const cache = cacheSyncStates(store, { flushMs: 60_000 })
    await cache.save([DOC, 'incremental', 'h1'], bytes(1))
    await cache.save([DOC, 'sync-state', 'peer-a'], bytes(2))
    await cache.close()
    expect(durable).toEqual([[DOC, 'incremental', 'h1']])
    expect(cached).toEqual([[DOC, 'sync-state', 'peer-a']])
    expect(await inner.load([DOC, 'sync-state', 'peer-a'])).toEqual(bytes(2))
  })
})
