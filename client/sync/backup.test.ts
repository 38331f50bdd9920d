import { describe, expect, it } from 'vitest'
import { Repo, cbor } from '@automerge/automerge-repo'
import { exportBackup, readBackup } from './backup.ts'
import { applySyncFile, exportSyncFile, readSyncFile } from './syncfile.ts'
import { newFeed, newPost, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { encodeKey, generateMemberKeys, memberIdFor } from '../../shared/identity.ts'
import { newPostId, type DocUrl } from '../../shared/ids.ts'
import type { Profile } from '../db/db.ts'

/** A device with a neighbourhood, its member Odile (with keys) and one post. */
function device() {
  const repo = new Repo({ network: [] })
  const keys = generateMemberKeys()
  const me = memberIdFor(keys.publicKey)
  const n = repo.create<NeighbourhoodDoc>()
  const feed = repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
  n.change((d) =>
    Object.assign(d, newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Odile', creatorFeed: feed.url as DocUrl, creatorKey: encodeKey(keys.publicKey), now: 1 })),
  )
  feed.change((d) => {
    const id = newPostId()
    d.posts[id] = newPost({ kind: 'request', category: 'lifts', title: 'Conduire au marché', body: '' }, id, 10)
  })
  const profile: Profile = { id: me, keys, displayName: 'Odile', neighbourhood: n.url as DocUrl, feed: feed.url as DocUrl, createdAt: 5 }
  return { repo, profile, n, feed }
}

const gunzip = async (bytes: Uint8Array) => new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer())
const gzip = async (bytes: Uint8Array) => new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer())
type Decoded = { version: number; profile: Record<string, unknown> & { keys: { publicKey: Uint8Array; secretKey: Uint8Array } }; settings: Record<string, unknown>; docs: { url: string; data: Uint8Array }[] }
const decode = async (file: Uint8Array) => cbor.decode(await gunzip(file)) as Decoded
const encode = async (value: unknown) => gzip(cbor.encode(value))

describe('profile backup', () => {
  it('carries the profile, its keys, its settings and its neighbourhood to a device that has nothing', async () => {
    const a = device()
    const file = await exportBackup(a.repo, a.profile, { language: 'en' })
    const checked = await readBackup(file)
    expect(checked.profile).toEqual(a.profile)
    expect(checked.settings).toEqual({ language: 'en' })
    expect(checked.neighbourhoodName).toBe('Le Bourg')

    const b = new Repo({ network: [] })
    await applySyncFile(b, checked)
    const feed = await b.find<FeedDoc>(a.feed.url)
    expect(Object.values(feed.doc().posts).map((p) => String(p.title))).toEqual(['Conduire au marché'])
    // The same member writes on: the restored feed takes new changes that merge with the old device's.
    feed.change((d) => {
      const id = newPostId()
      d.posts[id] = newPost({ kind: 'offer', category: 'diy', title: 'Écrit après restauration', body: '' }, id, 20)
    })
    a.feed.merge(feed)
    expect(Object.keys(a.feed.doc().posts)).toHaveLength(2)
  })

  describe('refuses, with a reason, and nothing is read further', () => {
    const refuse = async (bytes: Uint8Array | Promise<Uint8Array>, reason: string) => {
      await expect(readBackup(await bytes)).rejects.toMatchObject({ reason })
    }

    it('a file that is not a backup, or a neighbourhood file given at the wrong door', async () => {
      const a = device()
      await refuse(new TextEncoder().encode('liste de courses'), 'not-backup-file')
      await refuse(encode({ format: 'other-app', version: 1 }), 'not-backup-file')
      await refuse(exportSyncFile(a.repo, a.profile.neighbourhood), 'not-backup-file')
      // …and the other way round: a backup is not opened as a neighbourhood file.
      await expect(readSyncFile(await exportBackup(a.repo, a.profile, {}))).rejects.toMatchObject({ reason: 'backup-file' })
    })

    it('a damaged, truncated or newer file', async () => {
      const a = device()
      const file = await exportBackup(a.repo, a.profile, {})
      await refuse(file.slice(0, Math.floor(file.byteLength / 2)), 'corrupt-file')
      const newer = await decode(file)
      newer.version = 2
      await refuse(encode(newer), 'newer-file')
      const broken = await decode(file)
      broken.docs[0]!.data = new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3])
      await refuse(encode(broken), 'corrupt-file')
      const badSettings = await decode(file)
      badSettings.settings = { language: 'klingon' }
      await refuse(encode(badSettings), 'corrupt-file')
    })

    it('keys that are not this member’s, or a member the neighbourhood does not know', async () => {
      const a = device()
      const good = await decode(await exportBackup(a.repo, a.profile, {}))

      const otherKeys = structuredClone(good)
      otherKeys.profile.keys.secretKey = generateMemberKeys().secretKey
      await refuse(encode(otherKeys), 'corrupt-file')

      // Someone else's whole key pair: it matches itself but not the member ID.
      const someoneElse = structuredClone(good)
      someoneElse.profile.keys = generateMemberKeys()
      await refuse(encode(someoneElse), 'corrupt-file')

      // A consistent identity the neighbourhood never registered.
      const stranger = structuredClone(good)
      const keys = generateMemberKeys()
      stranger.profile.keys = keys
      stranger.profile.id = memberIdFor(keys.publicKey)
      await refuse(encode(stranger), 'corrupt-file')

      const noFeed = structuredClone(good)
      noFeed.docs = noFeed.docs.filter((d) => d.url !== a.profile.feed)
      await refuse(encode(noFeed), 'corrupt-file')
    })
  })
})
