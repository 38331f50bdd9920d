/**
 * A data folder damaged behind the relay's back (a disk error, a bad copy, someone's editor): the
 * relay still starts, says which file it skipped, serves everything intact, and takes back what was
 * lost from the first device that still has it.
 */
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { next as A } from '@automerge/automerge'
import { afterEach, describe, expect, it } from 'vitest'
import { folderOf } from '../../sync-server/storage/file-layout.ts'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { startRelay } from '../helpers/relay.ts'
import { loadStoredDoc } from '../helpers/stored-doc.ts'
import { waitFor } from '../helpers/wait-for.ts'

interface Board {
  posts: string[]
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The chunk files of one document in a data folder. */
async function chunkFiles(dataDir: string, documentId: string): Promise<string[]> {
  const { shard, dir } = folderOf(documentId)
  const folder = join(dataDir, shard, dir)
  return (await readdir(folder)).filter((n) => n.startsWith('k.snapshot') || n.startsWith('k.incremental')).map((n) => join(folder, n))
}

describe('a damaged data folder', () => {
  it('is served as far as it is intact, each damaged file reported, and healed from a device', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'placette-damage-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const first = await startRelay({ dataDir, access: 'open' })
    const device: NodeClient = nodeClient(first.wsUrl)
    cleanups.push(() => device.close())
    const [torn, garbled, intact] = [1, 2, 3].map((n) => device.repo.create<Board>({ posts: [`post ${n}`] }))
    for (const h of [torn!, garbled!, intact!]) {
      await waitFor(async () => {
        const stored = await loadStoredDoc(dataDir, h.documentId)
        return stored && A.hasHeads(stored, A.getHeads(h.doc()))
      }, { message: 'the relay stores every document' })
    }
    await first.relay.close()

    // One file cut short (a torn write on a disk that lies about fsync), one overwritten.
    for (const file of await chunkFiles(dataDir, torn!.documentId)) await truncate(file, 20)
    for (const file of await chunkFiles(dataDir, garbled!.documentId)) await writeFile(file, 'PLKV and then nonsense')

    // Same port: the device, still running, finds the relay again by itself.
    const second = await startRelay({ dataDir, port: first.port, access: 'open' })
    cleanups.push(() => second.stop())
    const fresh = nodeClient(second.wsUrl)
    cleanups.push(() => fresh.close())
    expect((await fresh.findEventually<Board>(intact!.url)).doc().posts).toEqual(['post 3'])
    // The device that wrote them reconnects and syncs: the relay writes them whole again.
    for (const h of [torn!, garbled!]) {
      await waitFor(async () => {
        const stored = await loadStoredDoc(dataDir, h.documentId)
        return stored && A.hasHeads(stored, A.getHeads(h.doc()))
      }, { message: 'the relay writes the damaged document again' })
    }
    // Each damaged file was reported, by name, and skipped.
    const reported = second.logs.filter((l) => l.msg === 'unreadable storage file skipped').map((l) => String(l.file))
    for (const h of [torn!, garbled!]) expect(reported.some((f) => f.includes(`/${folderOf(h.documentId).dir}/`))).toBe(true)
    expect((await fetch(`${second.url}/healthz`)).ok).toBe(true)
  })
})
