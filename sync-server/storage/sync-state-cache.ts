/**
 * Keeps the relay's saved sync states in memory and writes them to disk in the background.
 *
 * automerge-repo saves, for every peer that has a storage ID, its sync state of every document after
 * every message exchanged (throttled to one write per peer per 100 ms). On a relay each change means
 * a message out and an acknowledgement back for every other member of the neighbourhood: with durable
 * writes (temp file, fsync, rename, fsync the folder) that was 30 writes per change, 665 writes/s at
 * 200 clients, and those fsyncs filled the thread pool where the sync-state loads of joining clients
 * (which their messages wait for) and the inflating of WebSocket frames also run: the relay stalled.
 *
 * A sync state is a cache: losing one only makes the next exchange with that peer a little longer
 * (the sync protocol starts from what the two sides have in common), it never loses a change. So
 * here the latest sync state of each (document, peer) is kept in memory, served from there, and
 * written to the store at most once per `flushMs` (the latest version only, a few at a time); every
 * pending one is written on `close()`. A crash loses at most `flushMs` of sync-state progress. The
 * default is 5 minutes: at 200 clients a 30 s flush wrote about 130 sync states a second, most of them
 * superseded a few seconds later (relay CPU 46 → 43 % in bench relay-load's steady state), and a
 * Raspberry Pi's SD card wears with every write; what a crash costs is a slightly longer first
 * exchange with the peers whose progress was lost. Where the
 * store offers `saveWithoutSync` (FileStorage), sync states are written without fsync: a power cut
 * may lose the last ones written too.
 * Documents themselves are never delayed: every other key goes straight through.
 */
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo/slim'
import type { CacheWriter } from './managed-storage.ts'

export interface SyncStateCacheOptions {
  /** Longest time a sync state waits in memory before it is written (default 5 min). */
  flushMs?: number
  /** Sync states written at a time during a flush (default 2, so the flush never fills the thread pool). */
  concurrency?: number
}

/** automerge-repo's sync-state keys: `[documentId, 'sync-state', storageId]`. */
export const isSyncStateKey = (key: StorageKey): boolean => key.length === 3 && key[1] === 'sync-state'

export interface SyncStateCache extends StorageAdapterInterface {
  /** Writes every pending sync state now. */
  flush(): Promise<void>
  /** Writes every pending sync state, stops the timer, then closes the store underneath. */
  close(): Promise<void>
}

/**
 * Wraps `inner` (see the file comment). `inner.close`, if any, is called by `close()` after the last
 * pending sync state is written.
 */
export function cacheSyncStates(inner: StorageAdapterInterface & CacheWriter & { close?: () => Promise<void> }, options: SyncStateCacheOptions = {}): SyncStateCache {
  const flushMs = options.flushMs ?? 300_000
  const concurrency = Math.max(1, options.concurrency ?? 2)
  /** documentId → storageId → latest encoded sync state not yet written. */
  const pending = new Map<string, Map<string, Uint8Array>>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let flushing: Promise<void> = Promise.resolve()
  let closed = false

  const schedule = () => {
    if (timer || closed) return
    timer = setTimeout(() => {
      timer = undefined
      void flush()
    }, flushMs)
    timer.unref()
  }

  /** The batch being written by the current flush (still served from memory until written). */
  let writing = new Map<string, Map<string, Uint8Array>>()
  const lookup = (doc: string, peer: string): Uint8Array | undefined => pending.get(doc)?.get(peer) ?? writing.get(doc)?.get(peer)

  const flush = (): Promise<void> => {
    // One flush at a time, each taking what is pending when it starts.
    flushing = flushing.then(async () => {
      writing = new Map(pending)
      pending.clear()
      const batch: [StorageKey, Uint8Array][] = []
      for (const [doc, byPeer] of writing) for (const [peer, data] of byPeer) batch.push([[doc, 'sync-state', peer], data])
      let next = 0
      const worker = async () => {
        while (next < batch.length) {
          const [key, data] = batch[next++] as [StorageKey, Uint8Array]
          // Forgotten meanwhile (its document was removed): do not write it back.
          if (writing.get(key[0] as string)?.get(key[2] as string) !== data) continue
          // A failed write is logged by the store underneath; the sync state is only a cache, so it
          // is written without fsync where the store can (it never waits for the disk's flush).
          await (inner.saveWithoutSync ? inner.saveWithoutSync(key, data) : inner.save(key, data)).catch(() => undefined)
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker))
      writing = new Map()
    })
    return flushing
  }

  /** Sync states held in memory under `prefix` (pending or being written; pending wins). */
  const heldIn = (prefix: StorageKey): Chunk[] => {
    if (prefix.length > 3 || (prefix.length >= 2 && prefix[1] !== 'sync-state')) return []
    const docs = prefix.length === 0 ? new Set([...pending.keys(), ...writing.keys()]) : [prefix[0] as string]
    const chunks: Chunk[] = []
    for (const doc of docs) {
      const peers = new Set([...(pending.get(doc)?.keys() ?? []), ...(writing.get(doc)?.keys() ?? [])])
      for (const peer of peers) if (prefix.length < 3 || prefix[2] === peer) chunks.push({ key: [doc, 'sync-state', peer], data: lookup(doc, peer) as Uint8Array })
    }
    return chunks
  }

  const forget = (prefix: StorageKey) => {
    for (const { key } of heldIn(prefix)) {
      for (const map of [pending, writing]) {
        const byPeer = map.get(key[0] as string)
        byPeer?.delete(key[2] as string)
        if (byPeer?.size === 0) map.delete(key[0] as string)
      }
    }
  }

  return {
    async load(key) {
      const held = isSyncStateKey(key) ? lookup(key[0] as string, key[2] as string) : undefined
      if (held) return held
      return inner.load(key)
    },
    async save(key, data) {
      if (!isSyncStateKey(key) || closed) return inner.save(key, data)
      let byPeer = pending.get(key[0] as string)
      if (!byPeer) pending.set(key[0] as string, (byPeer = new Map()))
      byPeer.set(key[2] as string, data)
      schedule()
    },
    async remove(key) {
      forget(key)
      await flushing
      return inner.remove(key)
    },
    async loadRange(prefix) {
      const stored = await inner.loadRange(prefix)
      // What memory holds is newer than the disk (read after the disk, in case a write ended meanwhile).
      const held = heldIn(prefix)
      if (held.length === 0) return stored
      const newer = new Set(held.map((c) => JSON.stringify(c.key)))
      return [...stored.filter((c) => !newer.has(JSON.stringify(c.key))), ...held]
    },
    async removeRange(prefix) {
      forget(prefix)
      // A write of this flush may be under way: let it end, then remove.
      await flushing
      return inner.removeRange(prefix)
    },
    flush,
    async close() {
      closed = true
      clearTimeout(timer)
      timer = undefined
      await flush()
      await inner.close?.()
    },
  }
}
