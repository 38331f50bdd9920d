import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemoryLogger } from '../log.ts'
import { decodePart, encodePart, fileNameOf, folderOf, restOfKeyFromName } from './file-layout.ts'
import { FileStorage } from './file-storage.ts'
import { ODD_PARTS, runStorageContract } from './storage-contract.ts'

const made: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'placette-storage-'))
  made.push(dir)
  return dir
}
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })))
})

runStorageContract('FileStorage', async () => new FileStorage(await tempDir(), { log: createMemoryLogger().log }))

const DOC = '4NMNnkMhL8jXrdJ9jamS2rj4SBi1'
const pathOf = (root: string, key: string[]): string => {
  const { shard, dir } = folderOf(key[0] as string)
  return join(root, shard, dir, fileNameOf(key))
}

describe('FileStorage on disk', () => {
  it('shards by the first two characters of the document ID', async () => {
    const root = await tempDir()
    await new FileStorage(root, { log: createMemoryLogger().log }).save([DOC, 'snapshot', 'abc'], new Uint8Array([1]))
    expect(await readdir(root)).toEqual(['4^'])
    expect(await readdir(join(root, '4^'))).toEqual([encodePart(DOC)])
  })

  it('writes a cache file without fsync that reads back like any other and leaves no temporary file', async () => {
    const root = await tempDir()
    const storage = new FileStorage(root, { log: createMemoryLogger().log })
    await storage.saveWithoutSync([DOC, 'sync-state', 'peer-a'], new Uint8Array([1]))
    await storage.saveWithoutSync([DOC, 'sync-state', 'peer-a'], new Uint8Array([2]))
    expect(await new FileStorage(root, { log: createMemoryLogger().log }).load([DOC, 'sync-state', 'peer-a'])).toEqual(new Uint8Array([2]))
    expect(await readdir(dirname(pathOf(root, [DOC, 'sync-state', 'peer-a'])))).toEqual(['k.sync-state.peer-a'])
  })

  it('writes through a temporary file and leaves none behind', async () => {
    const root = await tempDir()
    const storage = new FileStorage(root, { log: createMemoryLogger().log })
    await Promise.all([1, 2, 3].map((i) => storage.save([DOC, 'incremental', `h${i}`], new Uint8Array([i]))))
    expect(await readdir(dirname(pathOf(root, [DOC, 'incremental', 'h1'])))).toEqual(['k.incremental.h1', 'k.incremental.h2', 'k.incremental.h3'])
  })

  it('ignores and cleans a temporary file left by a crash', async () => {
    const root = await tempDir()
    const { log, lines } = createMemoryLogger()
    const storage = new FileStorage(root, { log })
    await storage.save([DOC, 'snapshot', 'good'], new Uint8Array([1, 2, 3]))
    const folder = dirname(pathOf(root, [DOC, 'snapshot', 'good']))
    await writeFile(join(folder, '~tmp-deadbeef0000-0'), 'half a write')

    const restarted = new FileStorage(root, { log })
    expect(await restarted.loadRange([DOC])).toStrictEqual([{ key: [DOC, 'snapshot', 'good'], data: new Uint8Array([1, 2, 3]) }])
    expect(await readdir(folder)).toEqual(['k.snapshot.good'])
    expect(lines.some((l) => l.msg.includes('leftover'))).toBe(true)
  })

  it('skips a truncated or corrupt file and still loads the others', async () => {
    const root = await tempDir()
    const { log, lines } = createMemoryLogger()
    const storage = new FileStorage(root, { log })
    await storage.save([DOC, 'incremental', 'a'], new Uint8Array([1, 2, 3, 4]))
    await storage.save([DOC, 'incremental', 'b'], new Uint8Array([5, 6, 7, 8]))
    await storage.save([DOC, 'incremental', 'c'], new Uint8Array([9]))
    await truncate(pathOf(root, [DOC, 'incremental', 'a']), 10)
    await writeFile(pathOf(root, [DOC, 'incremental', 'c']), 'not a storage file at all')

    expect(await storage.loadRange([DOC])).toStrictEqual([{ key: [DOC, 'incremental', 'b'], data: new Uint8Array([5, 6, 7, 8]) }])
    expect(await storage.load([DOC, 'incremental', 'a'])).toBeUndefined()
    expect(lines.filter((l) => l.level === 'error' && l.msg.includes('unreadable'))).not.toHaveLength(0)
  })

  it('detects a flipped byte in the data', async () => {
    const root = await tempDir()
    const storage = new FileStorage(root, { log: createMemoryLogger().log })
    await storage.save([DOC, 'snapshot', 's'], new Uint8Array(100).fill(7))
    const file = pathOf(root, [DOC, 'snapshot', 's'])
    const bytes = await readFile(file)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10)
    await writeFile(file, bytes)
    expect(await storage.loadRange([DOC])).toStrictEqual([])
  })

  it('does not fail when a document folder is a file', async () => {
    const root = await tempDir()
    const storage = new FileStorage(root, { log: createMemoryLogger().log })
    await storage.save(['zz', 'x'], new Uint8Array([1]))
    const { shard, dir } = folderOf(DOC)
    await mkdir(join(root, shard), { recursive: true })
    await writeFile(join(root, shard, dir), 'oops')
    expect(await storage.loadRange([DOC])).toStrictEqual([])
    expect(await storage.loadRange([])).toStrictEqual([{ key: ['zz', 'x'], data: new Uint8Array([1]) }])
  })
})

describe('file names of keys', () => {
  it('round-trips every odd key part and never produces a dot, slash, tilde or equals sign', () => {
    for (const part of ODD_PARTS) {
      const encoded = encodePart(part)
      expect(encoded).toMatch(/^[a-z0-9_^%-]*$/)
      expect(decodePart(encoded)).toBe(part)
    }
  })

  it('tells key files from temporary and foreign ones', () => {
    expect(restOfKeyFromName(fileNameOf([DOC, 'snapshot', 'H']))).toEqual(['snapshot', 'H'])
    expect(restOfKeyFromName(fileNameOf([DOC]))).toEqual([])
    expect(restOfKeyFromName(fileNameOf([DOC, 'x'.repeat(500)]))).toBe('hashed')
    expect(restOfKeyFromName('~tmp-abc-1')).toBeUndefined()
    expect(restOfKeyFromName('.DS_Store')).toBeUndefined()
  })
})
