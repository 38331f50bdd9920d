/**
 * Crash-safe file storage for automerge-repo. The stock NodeFS adapter writes in place, so a crash or
 * power cut mid-write leaves a torn file that stops the document from loading. Here every write goes
 * to a temporary file in the same folder, is fsynced, renamed over the target (atomic on POSIX), and
 * the folder is fsynced so the rename itself survives a power cut. Each file carries its key, length
 * and checksum (see file-layout.ts); a file that cannot be read is logged and skipped, never fatal.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo/slim'
import type { Logger } from '../log.ts'
import { fileNameOf, folderOf, frameRecord, hasPrefix, parseRecord, restOfKeyFromName, TEMP_PREFIX } from './file-layout.ts'

export interface FileStorageOptions {
  log: Logger
}

const isMissing = (e: unknown): boolean => (e as { code?: string }).code === 'ENOENT'

export class FileStorage implements StorageAdapterInterface {
  readonly root: string
  readonly #log: Logger
  /** Marks this instance's temporary files, so a listing can tell them from a crashed run's leftovers. */
  readonly #instance = randomBytes(6).toString('hex')
  #counter = 0

  constructor(root: string, options: FileStorageOptions) {
    this.root = resolve(root)
    this.#log = options.log
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const file = this.#pathOf(key)
    const record = await this.#read(file)
    if (record && !sameKey(record.key, key)) {
      this.#log.warn('storage file holds another key; ignored', { file, key })
      return undefined
    }
    return record?.data
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    await this.#write(key, data, true)
  }

  /**
   * Like {@link save}, atomic (temp file, rename) but without any fsync: the file survives a crash of
   * the process, not necessarily a power cut (then the old version, or none; a torn file fails its
   * checksum and is skipped). For caches only, such as sync states (sync-state-cache.ts): an fsync
   * holds a thread of libuv's pool, which the WebSocket compression also needs, for the disk's time.
   */
  async saveWithoutSync(key: StorageKey, data: Uint8Array): Promise<void> {
    await this.#write(key, data, false)
  }

  async #write(key: StorageKey, data: Uint8Array, durable: boolean): Promise<void> {
    const file = this.#pathOf(key)
    const dir = dirname(file)
    await this.#ensureDir(dir, durable)
    const temp = join(dir, `${TEMP_PREFIX}tmp-${this.#instance}-${this.#counter++}`)
    const { head, tail } = frameRecord(key, data)
    try {
      const handle = await open(temp, 'wx')
      try {
        await handle.writev([head, data, tail])
        if (durable) await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, file)
    } catch (e) {
      await unlink(temp).catch(() => undefined)
      throw e
    }
    if (durable) await syncDir(dir)
  }

  async remove(key: StorageKey): Promise<void> {
    const file = this.#pathOf(key)
    try {
      await unlink(file)
    } catch (e) {
      if (isMissing(e)) return
      throw e
    }
    await syncDir(dirname(file))
  }

  async loadRange(prefix: StorageKey): Promise<Chunk[]> {
    const chunks: Chunk[] = []
    for (const dir of await this.#foldersOf(prefix)) {
      for (const file of await this.#keyFilesIn(dir, prefix)) {
        const record = await this.#read(file)
        if (record && hasPrefix(record.key, prefix)) chunks.push({ key: record.key, data: record.data })
      }
    }
    return chunks
  }

  async removeRange(prefix: StorageKey): Promise<void> {
    for (const dir of await this.#foldersOf(prefix)) {
      if (prefix.length <= 1) {
        await this.#removeFolder(dir)
        continue
      }
      const files = await this.#keyFilesIn(dir, prefix)
      for (const file of files) {
        if (restOfKeyFromName(basename(file)) === 'hashed') {
          // The name does not say which key it holds: read it, and leave it alone if unreadable.
          const record = await this.#read(file)
          if (!record || !hasPrefix(record.key, prefix)) continue
        }
        await unlink(file).catch((e: unknown) => {
          if (!isMissing(e)) throw e
        })
      }
      if (files.length > 0) await syncDir(dir)
    }
  }

  #pathOf(key: StorageKey): string {
    if (key.length === 0) throw new Error('storage key must not be empty')
    const { shard, dir } = folderOf(key[0] as string)
    return join(this.root, shard, dir, fileNameOf(key))
  }

  /** The document folders that may hold keys starting with `prefix`. */
  async #foldersOf(prefix: StorageKey): Promise<string[]> {
    if (prefix.length > 0) {
      const { shard, dir } = folderOf(prefix[0] as string)
      return [join(this.root, shard, dir)]
    }
    const folders: string[] = []
    for (const shard of await listDir(this.root)) {
      if (shard.startsWith(TEMP_PREFIX)) continue
      for (const dir of await listDir(join(this.root, shard))) {
        const path = join(this.root, shard, dir)
        if (dir.startsWith(TEMP_PREFIX)) await this.#cleanLeftover(path)
        else folders.push(path)
      }
    }
    return folders
  }

  /** Files in `dir` whose name may hold a key starting with `prefix` (cleaning a crash's leftovers). */
  async #keyFilesIn(dir: string, prefix: StorageKey): Promise<string[]> {
    const files: string[] = []
    for (const name of await listDir(dir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await this.#cleanLeftover(join(dir, name))
        continue
      }
      const rest = restOfKeyFromName(name)
      if (rest === undefined) continue
      if (rest === 'hashed' || hasPrefix(rest, prefix.slice(1))) files.push(join(dir, name))
    }
    return files
  }

  /** Deletes a temporary file or folder left by an earlier run; ours may still be in use. */
  async #cleanLeftover(path: string): Promise<void> {
    const name = basename(path)
    if (name.startsWith(`${TEMP_PREFIX}tmp-${this.#instance}-`) || name.startsWith(`${TEMP_PREFIX}del-${this.#instance}-`)) return
    this.#log.info('removing leftover temporary storage file', { path })
    await rm(path, { recursive: true, force: true }).catch((e: unknown) => this.#log.warn('could not remove leftover', { path, err: e }))
  }

  /** Removes a whole document folder: rename first, so a crash midway leaves all or nothing. */
  async #removeFolder(dir: string): Promise<void> {
    const doomed = join(dirname(dir), `${TEMP_PREFIX}del-${this.#instance}-${this.#counter++}`)
    try {
      await rename(dir, doomed)
    } catch (e) {
      if (isMissing(e)) return
      throw e
    }
    await syncDir(dirname(dir))
    await rm(doomed, { recursive: true, force: true })
  }

  /** Reads and checks one stored file; a missing file is `undefined`, an unreadable one is logged and `undefined`. */
  async #read(file: string): Promise<{ key: string[]; data: Uint8Array } | undefined> {
    try {
      return parseRecord(await readFile(file))
    } catch (e) {
      if (!isMissing(e)) this.#log.error('unreadable storage file skipped', { file, err: e })
      return undefined
    }
  }

  /** mkdir -p, then (if `durable`) fsync the parent of every folder it created, so the new entries are durable. */
  async #ensureDir(dir: string, durable = true): Promise<void> {
    const first = await mkdir(dir, { recursive: true })
    if (first === undefined || !durable) return
    for (let d = dir; ; d = dirname(d)) {
      await syncDir(dirname(d))
      if (d === first || !d.startsWith(first + sep) || dirname(d) === d) break
    }
  }
}

function sameKey(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i])
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch (e) {
    if (isMissing(e) || (e as { code?: string }).code === 'ENOTDIR') return []
    throw e
  }
}

/** fsync a folder so a rename or a new entry in it is on disk. Windows cannot open folders: skip there. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
