/**
 * A device's storage kept in memory: what IndexedDB is to the app, without a browser. It keeps the
 * documents and the sync states automerge-repo saves, so a reconnect behaves as it does on a phone.
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'

const SEP = '\u0000'

export class MemoryStorage implements StorageAdapterInterface {
  readonly #data = new Map<string, Uint8Array>()

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.#data.get(key.join(SEP))
  }
  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(key.join(SEP), data)
  }
  async remove(key: StorageKey): Promise<void> {
    this.#data.delete(key.join(SEP))
  }
  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const p = prefix.join(SEP)
    const out: Chunk[] = []
    for (const [k, data] of this.#data) if (k === p || k.startsWith(p + SEP)) out.push({ key: k.split(SEP), data })
    return out
  }
  async removeRange(prefix: StorageKey): Promise<void> {
    const p = prefix.join(SEP)
    for (const k of [...this.#data.keys()]) if (k === p || k.startsWith(p + SEP)) this.#data.delete(k)
  }
}
