/**
 * Reads a document straight from a relay's data folder, as automerge-repo loads it (snapshots, then
 * incremental chunks), without a relay and without touching anything: what a crash left on disk.
 * (FileStorage itself would also clean up temporary files, including those of a relay still writing.)
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { next as A } from '@automerge/automerge'
import { folderOf, parseRecord, restOfKeyFromName } from '../../sync-server/storage/file-layout.ts'

/** The stored document, or `undefined` if the folder holds nothing of it. Unreadable files are skipped, as the relay does. */
export async function loadStoredDoc<T = unknown>(dataDir: string, documentId: string): Promise<A.Doc<T> | undefined> {
  const { shard, dir } = folderOf(documentId)
  const folder = join(dataDir, shard, dir)
  let names: string[]
  try {
    names = (await readdir(folder)).sort()
  } catch {
    return undefined
  }
  const chunks: Record<'snapshot' | 'incremental', Uint8Array[]> = { snapshot: [], incremental: [] }
  for (const name of names) {
    if (restOfKeyFromName(name) === undefined) continue
    let record
    try {
      record = parseRecord(await readFile(join(folder, name)))
    } catch {
      continue // gone since the listing (a compaction) or unreadable
    }
    const kind = record.key[1]
    if (record.key[0] === documentId && (kind === 'snapshot' || kind === 'incremental')) chunks[kind].push(record.data)
  }
  const all = [...chunks.snapshot, ...chunks.incremental]
  if (all.length === 0) return undefined
  return A.loadIncremental(A.init<T>(), Buffer.concat(all))
}
