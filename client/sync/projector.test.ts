import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { Repo } from '@automerge/automerge-repo'
import { Projector } from './projector.ts'
import { RelayAdapter } from './websocket-adapter.ts'
import { openDb, type PlacetteDb } from '../db/db.ts'
import { newFeed, newPost, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { newMemberId, newPostId, randomId, type DocUrl, type MemberId } from '../../shared/ids.ts'
import { encodeKey, generateMemberKeys, memberIdFor } from '../../shared/identity.ts'
import { changeSigned } from '../../shared/signed-changes.ts'
import { PROJECTION_VERSION } from '../../shared/projector.ts'

// The projector against a real repo (no network) and Dexie on fake-indexeddb: one layer, its real
// neighbours, only the browser's IndexedDB faked.
let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

/** A repo, an index and a projector, torn down after the test. */
function engine() {
  const db: PlacetteDb = openDb(`test-${randomId()}`)
  const repo = new Repo({ network: [] })
  const projector = new Projector(repo, db, new RelayAdapter({ url: 'ws://127.0.0.1:9/sync' }))
  cleanup.push(async () => {
    await projector.settled()
    projector.stop()
    await repo.shutdown()
    db.close()
  })
  return { db, repo, projector }
}

async function setup() {
  const { db, repo, projector } = engine()
  const me = newMemberId()
  const n = repo.create<NeighbourhoodDoc>()
  const feed = repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
  n.change((d) => {
    Object.assign(
      d,
      newNeighbourhood({
        name: 'Le Bourg',
        commune: { insee: '01001', name: 'X', postcode: '01400' },
        creator: me,
        creatorName: 'Jeanne',
        creatorFeed: feed.url as DocUrl,
        now: 1,
      }),
    )
  })
  const post = (title: string, at: number) =>
    feed.change((d) => {
      const id = newPostId()
      const p = newPost({ kind: 'request', category: 'lifts', title, body: '' }, id, at)
      d.posts[id] = { ...p, title: new A.ImmutableString(p.title) as unknown as string }
    })
  return { db, repo, projector, n, feed, me, post }
}

/** The app started again on the same device: a new projector over the same repo and index. */
function restart(repo: Repo, db: PlacetteDb): Projector {
  const again = new Projector(repo, db, new RelayAdapter({ url: 'ws://127.0.0.1:9/sync' }))
  cleanup.push(async () => {
    await again.settled()
    again.stop()
  })
  return again
}

const titles = async (db: PlacetteDb) =>
  (await db.posts.orderBy('[neighbourhood+createdAt]').reverse().toArray()).map((p) => p.title)

describe('client projector', () => {
  it('projects the neighbourhood, its members and their feeds into the index', async () => {
    const { db, projector, n, post, me } = await setup()
    post('Aller au marché', 10)
    post('Promener le chien', 20)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => titles(db)).toEqual(['Promener le chien', 'Aller au marché'])
    expect(await db.neighbourhoods.get(n.url as DocUrl)).toMatchObject({ name: 'Le Bourg', memberCount: 1 })
    expect((await db.members.toArray()).map((m) => m.id as MemberId)).toEqual([me])
  })

  it('follows later changes, including an edit and a deletion', async () => {
    const { db, projector, n, feed, post } = await setup()
    post('Un', 10)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => titles(db)).toEqual(['Un'])
    post('Deux', 20)
    await expect.poll(() => titles(db)).toEqual(['Deux', 'Un'])
    feed.change((d) => {
      const first = Object.values(d.posts).find((p) => String(p.title) === 'Un')!
      delete d.posts[first.id]
    })
    await expect.poll(() => titles(db)).toEqual(['Deux'])
  })

  it('gives the same rows after the index is dropped and rebuilt', async () => {
    const { db, projector, n, post } = await setup()
    for (let i = 0; i < 20; i++) post(`Post ${i}`, i)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(async () => (await db.posts.count())).toBe(20)
    await projector.settled()
    const before = { posts: await db.posts.toArray(), members: await db.members.toArray(), n: await db.neighbourhoods.toArray() }
    await projector.rebuild()
    const after = { posts: await db.posts.toArray(), members: await db.members.toArray(), n: await db.neighbourhoods.toArray() }
    expect(after).toEqual(before)
  })

  it('marks this device’s posts as pending and counts unsynced changes until a relay reports them', async () => {
    const { db, projector, n, feed, post } = await setup()
    projector.setOwn([feed.url as DocUrl, n.url as DocUrl])
    post('Hors ligne', 10)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(async () => (await db.posts.toArray()).map((p) => p.pending)).toEqual([true])
    await expect.poll(async () => (await db.settings.get('pendingChanges'))?.value).toBeGreaterThan(0)
    // Another profile takes the shared tablet, with nothing of its own yet: nothing is pending for it.
    projector.setOwn([])
    await expect.poll(async () => (await db.settings.get('pendingChanges'))?.value).toBe(0)
  })

  it('on a new start with no record of the version it holds (an older app wrote it), rewrites only the rows that differ', async () => {
    const { db, repo, projector, n, post } = await setup()
    for (let i = 0; i < 5; i++) post(`Post ${i}`, i)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(async () => (await db.posts.count())).toBe(5)
    await projector.settled()
    projector.stop()
    // The index went stale while the app was closed, and says nothing of the version it holds: one title is wrong.
    const [first] = await db.posts.toArray()
    await db.posts.update([first!.feed, first!.id], { title: 'Stale' })
    await db.projections.clear()
    const written: string[] = []
    const count = (table: string) => (_key: unknown, row: { id?: string }) => void written.push(`${table} ${row?.id}`)
    db.posts.hook('creating', count('posts'))
    db.posts.hook('updating', (_mods, _key, row) => void written.push(`posts ${row.id}`))
    db.comments.hook('creating', count('comments'))

    const again = new Projector(repo, db, new RelayAdapter({ url: 'ws://127.0.0.1:9/sync' }))
    cleanup.push(async () => {
      await again.settled()
      again.stop()
    })
    await again.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(async () => (await db.posts.get([first!.feed, first!.id]))?.title).toBe(first!.title)
    await again.settled()
    expect(written).toEqual([`posts ${first!.id}`])
  })
})

describe('client projector, signed feeds', () => {
  /** A neighbourhood whose member has a key, and a feed they write through the signing path. */
  async function signedSetup() {
    const { db, repo, projector } = engine()
    const keys = generateMemberKeys()
    const me = memberIdFor(keys.publicKey)
    const n = repo.create<NeighbourhoodDoc>()
    const feed = repo.create<FeedDoc>()
    const write = (fn: (d: FeedDoc) => void) => feed.update((doc) => changeSigned(doc, fn, { documentId: feed.documentId, secretKey: keys.secretKey }))
    write((d) => Object.assign(d, newFeed(n.url as DocUrl, me)))
    n.change((d) => {
      Object.assign(
        d,
        newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Lucie', creatorFeed: feed.url as DocUrl, creatorKey: encodeKey(keys.publicKey), now: 1 }),
      )
    })
    const post = (title: string) => {
      const id = newPostId()
      write((d) => void (d.posts[id] = newPost({ kind: 'lend', category: 'diy', title, body: '' }, id, 10)))
      return id
    }
    return { db, repo, projector, n, feed, post }
  }

  it('shows the owner’s last valid version and flags the feed when a change is not signed by its owner', async () => {
    const { db, projector, n, feed, post } = await signedSetup()
    const id = post('Perceuse à prêter')
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => titles(db)).toEqual(['Perceuse à prêter'])
    expect((await db.feedChecks.get(feed.url as DocUrl))?.invalid).toEqual([])
    // A change someone else made to a copy of the feed, reaching this device (as through a sync file).
    const forgedChange = A.getLastLocalChange(A.change(A.clone(feed.doc()), (d) => void (d.posts[id]!.title = 'Perceuse à vendre, 500 €')))!
    feed.update((doc) => A.applyChanges(doc, [forgedChange])[0])
    await expect.poll(async () => (await db.feedChecks.get(feed.url as DocUrl))?.invalid.length).toBe(1)
    await projector.settled()
    expect(await titles(db)).toEqual(['Perceuse à prêter'])
  })

  it('on a cold start, verifies no signature it verified before', async () => {
    const { db, repo, projector, n, feed, post } = await signedSetup()
    for (let i = 0; i < 5; i++) post(`Post ${i}`)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(async () => (await db.feedChecks.get(feed.url as DocUrl))?.heads).toEqual(A.getHeads(feed.doc()))
    await projector.settled()
    projector.stop()
    const again = restart(repo, db)
    await again.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => again.feedChecks.last(feed.url as DocUrl)).toMatchObject({ verified: 0, invalid: [], signed: true })
  })

  /** A feed with one post, projected, then the app closed. */
  async function projectedThenClosed() {
    const { db, repo, projector, n, feed, post } = await setup()
    post('Aller au marché', 10)
    await projector.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => titles(db)).toEqual(['Aller au marché'])
    await projector.settled()
    projector.stop()
    return { db, repo, n, feed, post }
  }

  it('on a cold start, writes nothing for a feed whose version the index holds, and projects it whole at its next change', async () => {
    const { db, repo, n, feed, post } = await projectedThenClosed()
    // A row changed behind the projector's back tells whether it is written again.
    await db.posts.toCollection().modify({ title: 'Pas réécrit' })
    const again = restart(repo, db)
    await again.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => again.feedChecks.last(feed.url as DocUrl)).toBeDefined()
    await again.settled()
    expect(await titles(db)).toEqual(['Pas réécrit'])
    post('Promener le chien', 20)
    await expect.poll(() => titles(db)).toEqual(['Promener le chien', 'Aller au marché'])
  })

  it('on a cold start, projects again a feed whose rows another version of the projection wrote', async () => {
    const { db, repo, n, feed } = await projectedThenClosed()
    expect(await db.projections.get(feed.url as DocUrl)).toMatchObject({ heads: A.getHeads(feed.doc()), version: PROJECTION_VERSION })
    await db.posts.toCollection().modify({ title: 'Ancienne projection' })
    await db.projections.toCollection().modify({ version: PROJECTION_VERSION - 1 })
    const again = restart(repo, db)
    await again.watchNeighbourhood(n.url as DocUrl)
    await expect.poll(() => titles(db)).toEqual(['Aller au marché'])
  })
})
