/**
 * Which documents a store holds, without reading them: what the relay loads when an upstream first
 * connects (peering.ts), so that documents only on disk are synced upstream too.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { StorageAdapterInterface } from '@automerge/automerge-repo/slim'
import { decodePart, TEMP_PREFIX } from './file-layout.ts'

/**
 * The first key parts (document IDs, and automerge-repo's own `storage-adapter-id`) held by a
 * FileStorage folder, read from its folder names (file-layout.ts): one directory listing per
 * shard, no file is opened. A folder named by a hash (a first part over 200 characters) is skipped:
 * document IDs are never that long.
 */
export async function listFileStorageFirstParts(root: string): Promise<string[]> {
  const out: string[] = []
  for (const shard of await listDir(root)) {
    if (shard.startsWith(TEMP_PREFIX)) continue
    for (const dir of await listDir(join(root, shard))) {
      if (dir.startsWith(TEMP_PREFIX)) continue
      const first = decodePart(dir)
      if (first !== undefined && first !== '') out.push(first)
    }
  }
  return out
}

/** The same for any storage adapter, through `loadRange([])`: reads everything, so for small or in-memory stores. */
export async function listFirstPartsByRange(storage: StorageAdapterInterface): Promise<string[]> {
  return [...new Set((await storage.loadRange([])).map((chunk) => chunk.key[0]).filter((k): k is string => typeof k === 'string'))]
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (e) {
    const code = (e as { code?: string }).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw e
  }
}
