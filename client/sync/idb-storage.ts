import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo'

/**
 * automerge-repo's IndexedDB storage, with the same database layout as
 * `@automerge/automerge-repo-storage-indexeddb` (one object store, records `{ key, binary }`), so
 * documents saved by either load in the other. It differs in one way that matters on a full device:
 * a write whose transaction aborts (IndexedDB reports QuotaExceededError as an abort at commit, with
 * no error event) rejects, where the stock adapter waits forever.
 */
export class IdbStorage implements StorageAdapterInterface {
  readonly #store: string
  readonly #db: Promise<IDBDatabase>

  constructor(database = 'automerge', store = 'documents') {
    this.#store = store
    this.#db = new Promise((resolve, reject) => {
      const request = indexedDB.open(database, 1)
      request.onupgradeneeded = () => request.result.createObjectStore(store)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const record = await this.#request<{ binary?: Uint8Array } | undefined>('readonly', (s) => s.get(key))
    return record && typeof record === 'object' && 'binary' in record ? record.binary : undefined
  }

  async save(key: StorageKey, binary: Uint8Array): Promise<void> {
    await this.#request('readwrite', (s) => s.put({ key, binary }, key))
  }

  async remove(key: StorageKey): Promise<void> {
    await this.#request('readwrite', (s) => s.delete(key))
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const chunks: Chunk[] = []
    await this.#transaction('readonly', (s) => {
      const cursor = s.openCursor(IDBKeyRange.bound(prefix, [...prefix, '\uffff']))
      cursor.onsuccess = () => {
        const c = cursor.result
        if (!c) return
        chunks.push({ key: c.key as StorageKey, data: (c.value as { binary?: Uint8Array }).binary })
        c.continue()
      }
    })
    return chunks
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    await this.#request('readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, [...prefix, '\uffff'])))
  }

  /** Runs one request; resolves with its result once the transaction has committed. */
  async #request<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    let request: IDBRequest | undefined
    await this.#transaction(mode, (s) => (request = run(s)))
    return request?.result as T
  }

  async #transaction(mode: IDBTransactionMode, run: (store: IDBObjectStore) => void): Promise<void> {
    const db = await this.#db
    const tx = db.transaction(this.#store, mode)
    const done = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error ?? new DOMException('IndexedDB request failed', 'UnknownError'))
      tx.onabort = () => reject(tx.error ?? new DOMException('IndexedDB transaction aborted', 'AbortError'))
    })
    try {
      run(tx.objectStore(this.#store))
    } catch (e) {
      // A request that throws at once (a full disk in some browsers) leaves the transaction open.
      try {
        tx.abort()
      } catch {
        // already finished
      }
      done.catch(() => undefined)
      throw e
    }
    await done
  }
}
