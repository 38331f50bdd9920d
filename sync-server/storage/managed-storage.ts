/**
 * Wraps the relay's storage adapter to time writes for /metrics, log failed ones (inside automerge-repo's
 * save path a storage error would only surface as an unhandled rejection), and let shutdown wait for
 * writes in flight: automerge-repo's throttled saves can still be running when `flush()` returns.
 */
import type { StorageAdapterInterface } from '@automerge/automerge-repo/slim'
import type { Logger } from '../log.ts'

export type WriteObserver = (seconds: number, failed: boolean) => void

/** A store that can also write without fsync, for caches (FileStorage). */
export interface CacheWriter {
  saveWithoutSync?(key: string[], data: Uint8Array): Promise<void>
}

export interface ManagedStorage extends StorageAdapterInterface, CacheWriter {
  /**
   * Waits for every operation in flight, then refuses new writes (logged at debug level). Call it
   * after the repo has flushed every document, so nothing a refused write would save is lost.
   */
  close(): Promise<void>
}

export function managedStorage(inner: StorageAdapterInterface & CacheWriter, observe: WriteObserver, log: Logger): ManagedStorage {
  const inFlight = new Set<Promise<unknown>>()
  let closed = false
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p)
    const done = () => inFlight.delete(p)
    p.then(done, done)
    return p
  }
  const write =
    <A extends [string[], ...unknown[]]>(op: string, fn: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      if (closed) {
        log.debug('storage write after close ignored', { op, key: args[0] })
        return Promise.resolve()
      }
      const start = performance.now()
      return track(
        fn(...args).then(
          () => observe((performance.now() - start) / 1000, false),
          (err: unknown) => {
            observe((performance.now() - start) / 1000, true)
            log.error('storage write failed', { op, key: args[0], err })
            throw err
          },
        ),
      )
    }
  const cacheWrite =
    (fn: (key: string[], data: Uint8Array) => Promise<void>) =>
    (key: string[], data: Uint8Array): Promise<void> => {
      if (closed) return Promise.resolve()
      return track(
        fn(key, data).catch((err: unknown) => {
          log.warn('cache write failed', { key, err })
          throw err
        }),
      )
    }
  return {
    load: (key) => track(inner.load(key)),
    loadRange: (prefix) => track(inner.loadRange(prefix)),
    save: write('save', (key, data: Uint8Array) => inner.save(key, data)),
    remove: write('remove', (key) => inner.remove(key)),
    removeRange: write('removeRange', (prefix) => inner.removeRange(prefix)),
    // Not timed: /metrics times durable writes (placette_relay_storage_write_seconds); still waited for on close.
    ...(inner.saveWithoutSync ? { saveWithoutSync: cacheWrite(inner.saveWithoutSync.bind(inner)) } : {}),
    close: async () => {
      closed = true
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}
