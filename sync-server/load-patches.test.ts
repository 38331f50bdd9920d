/**
 * What patches/@automerge+automerge-repo+2.5.6.patch changes in how a document is loaded and how its
 * handle reports changes (issue #6, cold start; figures in bench/README.md):
 * - a document is loaded from storage with `load`, not `loadIncremental` into an empty document: the
 *   same document, built without a patch per value (half the time for a 10,000-post board);
 * - a handle computes the patches of a change only when a listener reads them, and emits `change`
 *   whenever its heads move: a load from storage no longer diffs the whole document for nobody, and a
 *   batch of changes that cancel out (no patch) is still passed on to the other peers.
 * Both the relay and the app run on it.
 */
import { next as A } from '@automerge/automerge'
import { generateAutomergeUrl, parseAutomergeUrl, Repo, type DocHandleChangePayload } from '@automerge/automerge-repo'
import { describe, expect, it } from 'vitest'
import { MemoryStorage } from './storage/memory-storage.ts'

type Board = { posts: Record<string, string> }

describe('a handle’s change events', () => {
  it('come for every move of the heads, those that cancel out included, with patches read on demand', async () => {
    const repo = new Repo({ network: [] })
    const handle = repo.create<Board>({ posts: {} })
    const events: DocHandleChangePayload<Board>[] = []
    handle.on('change', (e) => events.push(e))

    handle.change((d) => void (d.posts.x = 'soupe'))
    expect(events).toHaveLength(1)
    // Computed when read, and right.
    expect(Object.getOwnPropertyDescriptor(events[0], 'patches')?.get).toBeTypeOf('function')
    expect(events[0]!.patches).toEqual([{ action: 'put', path: ['posts', 'x'], value: '' }, { action: 'splice', path: ['posts', 'x', 0], value: 'soupe' }])

    // Someone else's changes that cancel out, arriving together: the heads move, no patch.
    let other = A.clone(handle.doc())
    other = A.change(other, (d) => void (d.posts.y = 'pain'))
    other = A.change(other, (d) => void delete d.posts.y)
    handle.update((d) => A.merge(d, other))
    expect(events).toHaveLength(2)
    expect(events[1]!.patches).toEqual([])
    await repo.shutdown()
  })
})

describe('loading from storage', () => {
  it('gives the document as it was stored, and saves what is written after it', async () => {
    const storage = new MemoryStorage()
    const writer = new Repo({ storage, network: [] })
    const written = writer.create<Board>({ posts: {} })
    for (let i = 0; i < 5; i++) written.change((d) => void (d.posts[`p${i}`] = 'Qui peut m’emmener à la pharmacie jeudi ?'))
    await writer.flush()
    await writer.shutdown()

    const reader = new Repo({ storage, network: [] })
    const handle = await reader.find<Board>(written.url)
    expect(handle.doc()).toEqual(written.doc())
    expect(A.getHeads(handle.doc())).toEqual(A.getHeads(written.doc()))
    // The reader writes on: its changes are saved after what was loaded.
    handle.change((d) => void (d.posts.p5 = 'Prête une perceuse'))
    await reader.flush()
    await reader.shutdown()
    const again = new Repo({ storage, network: [] })
    expect(Object.keys((await again.find<Board>(written.url)).doc().posts)).toHaveLength(6)
    await again.shutdown()
  })

  it('keeps what it can of a document whose stored chunks miss a dependency, as loadIncremental did', async () => {
    let doc = A.from<Board>({ posts: {} })
    doc = A.change(doc, (d) => void (d.posts.a = 'un'))
    doc = A.change(doc, (d) => void (d.posts.b = 'deux'))
    const [first, second, third] = A.getAllChanges(doc)
    const storage = new MemoryStorage()
    const url = generateAutomergeUrl()
    const { documentId } = parseAutomergeUrl(url)
    // The middle change is missing: the third waits for it.
    await storage.save([documentId, 'incremental', 'a'], new Uint8Array([...first!, ...third!]))
    const repo = new Repo({ storage, network: [] })
    const handle = await repo.find<Board>(url)
    expect(handle.doc()).toEqual({ posts: {} })
    handle.update((d) => A.loadIncremental(d, second!))
    expect(handle.doc()).toEqual({ posts: { a: 'un', b: 'deux' } })
    await repo.shutdown()
  })
})
