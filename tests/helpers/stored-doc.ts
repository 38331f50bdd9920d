/**
 * Reads a document straight from a relay's data folder, as automerge-repo loads it (snapshots, then
 * incremental chunks), without starting a relay: what a crash left on disk.
 */
import { next as A } from '@automerge/automerge'
import { createMemoryLogger } from '../../sync-server/log.ts'
import { FileStorage } from '../../sync-server/storage/file-storage.ts'

/** The stored document, or `undefined` if the folder holds nothing of it. Throws if its chunks do not load. */
export async function loadStoredDoc<T = unknown>(dataDir: string, documentId: string): Promise<A.Doc<T> | undefined> {
  const storage = new FileStorage(dataDir, { log: createMemoryLogger().log })
  const chunks = [...(await storage.loadRange([documentId, 'snapshot'])), ...(await storage.loadRange([documentId, 'incremental']))]
  if (chunks.length === 0) return undefined
  return A.loadIncremental(A.init<T>(), Buffer.concat(chunks.map((c) => c.data ?? new Uint8Array())))
}
