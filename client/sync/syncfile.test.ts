import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { Repo, cbor } from '@automerge/automerge-repo'
import { applySyncFile, exportSyncFile, readSyncFile } from './syncfile.ts'
import { newFeed, newPost, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { newMemberId, newPostId, type DocUrl, type MemberId } from '../../shared/ids.ts'

function neighbourhood(repo: Repo, name = 'Le Bourg') {
  const me = newMemberId()
  const n = repo.create<NeighbourhoodDoc>()
  const feed = repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
  n.change((d) => Object.assign(d, newNeighbourhood({ name, commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Jeanne', creatorFeed: feed.url as DocUrl, now: 1 })))
  const post = (title: string) =>
    feed.change((d) => {
      const id = newPostId()
      d.posts[id] = newPost({ kind: 'request', category: 'lifts', title, body: '' }, id, 10)
    })
  return { n, feed, me, post }
}

const titles = (doc: unknown) => Object.values((doc as FeedDoc).posts).map((p) => String(p.title)).sort()
const gzip = async (bytes: Uint8Array) => new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer())

describe('sync file', () => {
  it('carries a neighbourhood to a device that has nothing, and merges into one that has an older copy', async () => {
    const a = new Repo({ network: [] })
    const { n, feed, post } = neighbourhood(a)
    post('Conduire au marché')
    const file = await exportSyncFile(a, n.url as DocUrl)

    const b = new Repo({ network: [] })
    const checked = await readSyncFile(file)
    expect(checked.name).toBe('Le Bourg')
    expect(await applySyncFile(b, checked)).toBe(2)
    const bFeed = await b.find<FeedDoc>(feed.url)
    expect(titles(bFeed.doc())).toEqual(['Conduire au marché'])

    // Both write while apart; a second file carries A's news to B without losing B's.
    post('Promener le chien')
    bFeed.change((d) => {
      const id = newPostId()
      d.posts[id] = newPost({ kind: 'offer', category: 'diy', title: 'Écrit sur B', body: '' }, id, 11)
    })
    expect(await applySyncFile(b, await readSyncFile(await exportSyncFile(a, n.url as DocUrl)))).toBe(1)
    expect(titles(bFeed.doc())).toEqual(['Conduire au marché', 'Promener le chien', 'Écrit sur B'])
    expect(await applySyncFile(b, await readSyncFile(await exportSyncFile(a, n.url as DocUrl)))).toBe(0)
  })

  it('fills a document the device had asked for and nobody had', async () => {
    const a = new Repo({ network: [] })
    const { n, feed, post } = neighbourhood(a)
    post('Un')
    const b = new Repo({ network: [] })
    const waiting = await b.find<FeedDoc>(feed.url, { allowableStates: ['ready', 'unavailable'] })
    expect(waiting.isReady()).toBe(false)
    await applySyncFile(b, await readSyncFile(await exportSyncFile(a, n.url as DocUrl)))
    await waiting.whenReady()
    expect(titles(waiting.doc())).toEqual(['Un'])
  })

  describe('refuses, with a reason, and changes nothing', () => {
    const refuse = async (bytes: Uint8Array, reason: string) => {
      await expect(readSyncFile(bytes)).rejects.toMatchObject({ reason })
    }

    it('a file that is not one of ours', async () => {
      await refuse(new TextEncoder().encode('%PDF-1.4 not a sync file'), 'not-sync-file')
      await refuse(await gzip(cbor.encode({ format: 'other-app', version: 1 })), 'not-sync-file')
    })

    it('a damaged or truncated file', async () => {
      const a = new Repo({ network: [] })
      const { n } = neighbourhood(a)
      const file = await exportSyncFile(a, n.url as DocUrl)
      await refuse(file.slice(0, Math.floor(file.byteLength / 2)), 'corrupt-file')
      await refuse(await gzip(new Uint8Array([1, 2, 3, 4, 5])), 'corrupt-file')
    })

    it('a file from a newer version', async () => {
      await refuse(await gzip(cbor.encode({ format: 'placette-sync', version: 99, neighbourhood: 'automerge:x', createdAt: 1, docs: [] })), 'newer-file')
    })

    it('a document that does not load, or does not belong to the neighbourhood', async () => {
      const a = new Repo({ network: [] })
      const { n } = neighbourhood(a)
      const good = cbor.decode(await new Response(new Blob([(await exportSyncFile(a, n.url as DocUrl)) as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer().then((b) => new Uint8Array(b))) as { docs: { url: string; data: Uint8Array }[] }

      const broken = structuredClone(good)
      broken.docs[1]!.data = new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3])
      await refuse(await gzip(cbor.encode(broken)), 'corrupt-file')

      // A feed of another neighbourhood slipped in under a URL of this one.
      const other = neighbourhood(a, 'Ailleurs')
      const foreign = structuredClone(good)
      foreign.docs[1]!.data = A.save(other.feed.doc())
      await refuse(await gzip(cbor.encode(foreign)), 'corrupt-file')

      // An extra document that is not in the registry.
      const extra = structuredClone(good)
      const stray = a.create<FeedDoc>(newFeed(n.url as DocUrl, newMemberId() as MemberId))
      extra.docs.push({ url: stray.url, data: A.save(stray.doc()) })
      await refuse(await gzip(cbor.encode(extra)), 'corrupt-file')
    })
  })
})
