import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'
import type { StorageHealth } from './storage-health.ts'

const keyOf = (key: StorageKey) => JSON.stringify(key)
const under = (key: StorageKey, prefix: StorageKey) => prefix.every((part, i) => key[i] === part)

/**
 * Wraps the repo's storage so that a device that cannot write (full, or IndexedDB failing) loses
 * nothing and stops nothing. A failed write is kept in memory, in order, and reported to `health`;
 * reads see it as written; the queue is written again on every later write and on `health.retry()`.
 * Writes go first and removals after them, so storage never lacks a chunk that a snapshot still
 * waiting in memory replaces. The documents themselves stay in the repo and keep syncing meanwhile.
 */
export class ResilientStorage implements StorageAdapterInterface {
  readonly #inner: StorageAdapterInterface
  readonly #health: StorageHealth
  /** Writes that failed or wait behind one that did, in the order they were asked. */
  readonly #saves = new Map<string, { key: StorageKey; data: Uint8Array }>()
  /** Removals that wait for the writes above (a compaction removes what its snapshot replaces). */
  readonly #removes = new Map<string, StorageKey>()
  #draining: Promise<void> | undefined

  constructor(inner: StorageAdapterInterface, health: StorageHealth) {
    this.#inner = inner
    this.#health = health
    health.onRetry(() => this.#drain())
  }

  /** How many writes wait in memory. */
  get waiting(): number {
    return this.#saves.size
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const k = keyOf(key)
    if (this.#saves.has(k)) return this.#saves.get(k)!.data
    if (this.#removes.has(k)) return undefined
    return this.#inner.load(key)
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const stored = await this.#inner.loadRange(prefix)
    const chunks = stored.filter((c) => !this.#saves.has(keyOf(c.key)) && !this.#removes.has(keyOf(c.key)))
    for (const { key, data } of this.#saves.values()) if (under(key, prefix)) chunks.push({ key, data })
    return chunks
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (!this.#saves.size && !this.#removes.size) {
      try {
        return await this.#inner.save(key, data)
      } catch (e) {
        this.#queueSave(key, data)
        this.#health.failed('documents', e, this.#saves.size)
        return
      }
    }
    this.#queueSave(key, data)
    void this.#drain()
  }

  async remove(key: StorageKey): Promise<void> {
    if (!this.#saves.size && !this.#removes.size) {
      try {
        return await this.#inner.remove(key)
      } catch {
        // Removing is tidying up: try again with the next write.
      }
    }
    this.#saves.delete(keyOf(key))
    this.#removes.set(keyOf(key), key)
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    // A whole document goes (deleted or left): what waits for it goes too.
    for (const [k, s] of this.#saves) if (under(s.key, prefix)) this.#saves.delete(k)
    for (const [k, key] of this.#removes) if (under(key, prefix)) this.#removes.delete(k)
    await this.#inner.removeRange(prefix)
  }

  #queueSave(key: StorageKey, data: Uint8Array): void {
    const k = keyOf(key)
    this.#removes.delete(k)
    this.#saves.delete(k)
    this.#saves.set(k, { key, data })
  }

  /** Writes what waits, oldest first, then the removals; stops at the first failure. */
  #drain(): Promise<void> {
    this.#draining ??= (async () => {
      await null // so that `finally` below runs after the assignment, even with nothing to write
      try {
        for (;;) {
          const save = this.#saves.entries().next()
          if (!save.done) {
            const [k, s] = save.value
            await this.#inner.save(s.key, s.data)
            if (this.#saves.get(k) === s) this.#saves.delete(k)
            continue
          }
          const removal = this.#removes.entries().next()
          if (removal.done) break
          await this.#inner.remove(removal.value[1])
          this.#removes.delete(removal.value[0])
        }
        this.#health.recovered('documents')
      } catch (e) {
        this.#health.failed('documents', e, this.#saves.size)
      } finally {
        this.#draining = undefined
      }
    })()
    return this.#draining
  }
}
