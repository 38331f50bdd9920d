import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo'
import { afterAll, describe, expect, it } from 'vitest'
import { createMemoryLogger } from '../log.ts'
import { FileStorage } from './file-storage.ts'
import { MemoryStorage } from './memory-storage.ts'
import { listFileStorageFirstParts, listFirstPartsByRange } from './stored-documents.ts'

const made: string[] = []
afterAll(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })))
})
const docId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId as string

describe('stored documents', () => {
  it('lists the documents of a file store from its folder names, without reading a file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'placette-listing-'))
    made.push(root)
    const storage = new FileStorage(root, { log: createMemoryLogger().log })
    const [a, b] = [docId(), docId()]
    await storage.save([a, 'snapshot', 'h1'], new Uint8Array([1]))
    await storage.save([a, 'incremental', 'h2'], new Uint8Array([2]))
    await storage.save([b, 'sync-state', 'peer-store'], new Uint8Array([3]))
    await storage.save(['storage-adapter-id'], new Uint8Array([4]))
    expect((await listFileStorageFirstParts(root)).sort()).toEqual([a, b, 'storage-adapter-id'].sort())
    expect(await listFileStorageFirstParts(join(root, 'missing'))).toEqual([])
  })

  it('lists the first key parts of any store through loadRange', async () => {
    const storage = new MemoryStorage()
    const a = docId()
    await storage.save([a, 'snapshot', 'h1'], new Uint8Array([1]))
    await storage.save([a, 'incremental', 'h2'], new Uint8Array([2]))
    expect(await listFirstPartsByRange(storage)).toEqual([a])
  })
})
