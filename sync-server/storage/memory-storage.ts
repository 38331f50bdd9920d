/**
 * An in-memory storage adapter: the fake side of the storage contract, for tests of the layers above.
 * It copies data in and out, as a real store would, so a caller mutating its array changes nothing here.
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo/slim'

const hasPrefix = (key: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= key.length && prefix.every((p, i) => key[i] === p)

export class MemoryStorage implements StorageAdapterInterface {
  /** Keyed by the JSON of the key, which is unambiguous for any list of strings. */
  readonly #entries = new Map<string, { key: string[]; data: Uint8Array }>()

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const entry = this.#entries.get(JSON.stringify(key))
    return entry && new Uint8Array(entry.data)
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (key.length === 0) throw new Error('storage key must not be empty')
    this.#entries.set(JSON.stringify(key), { key: [...key], data: new Uint8Array(data) })
  }

  async remove(key: StorageKey): Promise<void> {
    this.#entries.delete(JSON.stringify(key))
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return [...this.#entries.values()]
      .filter((e) => hasPrefix(e.key, prefix))
      .map((e) => ({ key: [...e.key], data: new Uint8Array(e.data) }))
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    for (const [id, e] of this.#entries) if (hasPrefix(e.key, prefix)) this.#entries.delete(id)
  }

  /** Number of stored keys (for tests). */
  get size(): number {
    return this.#entries.size
  }
}
