import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { Repo } from '@automerge/automerge-repo'
import { openDb } from '../db/db.ts'
import { Projector } from './projector.ts'
import { RelayAdapter } from './websocket-adapter.ts'
import { acceptHelper, answerPost, editPost, postItem } from '../stores/commands.ts'
import type { Runtime } from './runtime.ts'
import { newFeed } from '../../shared/schema/feed.ts'
import { newNeighbourhood } from '../../shared/schema/neighbourhood.ts'
import { newMemberId, randomId, type DocUrl } from '../../shared/ids.ts'
import type { Profile } from '../db/db.ts'

// A document written by a newer version of Placette, with fields this version does not know, must be
// shown as well as possible and never lose those fields when this version writes to it.
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function setup() {
  const db = openDb(`compat-${randomId()}`)
  const repo = new Repo({ network: [] })
  const relay = new RelayAdapter({ url: 'ws://127.0.0.1:9/sync' })
  const projector = new Projector(repo, db, relay)
  cleanups.push(async () => {
    await projector.settled()
    projector.stop()
    await repo.shutdown()
    db.close()
  })
  const rt = { repo, relay, projector, close: async () => undefined } as Runtime
  const me = newMemberId()
  const n = repo.create<Record<string, unknown>>()
  const feed = repo.create<Record<string, unknown>>({
    ...newFeed(n.url as DocUrl, me),
    schemaVersion: 2,
    badges: ['voisin solidaire'],
  } as unknown as Record<string, unknown>)
  n.change((d) => {
    Object.assign(d, newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: me, creatorName: 'Jeanne', creatorFeed: feed.url as DocUrl, now: 1 }))
    d.schemaVersion = 2
    d.charterV2 = { text: 'Soyons aimables' }
  })
  const profile: Profile = { id: me, displayName: 'Jeanne', neighbourhood: n.url as DocUrl, feed: feed.url as DocUrl, createdAt: 1 }
  await db.profiles.put(profile)
  projector.setOwn([profile.feed, profile.neighbourhood])
  await projector.watchNeighbourhood(profile.neighbourhood)
  return { db, repo, rt, profile, feed, n }
}

describe('documents from a newer version', () => {
  it('shows a newer feed and keeps its unknown fields through this version’s writes', async () => {
    const { db, rt, profile, feed } = await setup()
    const ref = await postItem(rt, db, profile, { kind: 'request', category: 'lifts', title: 'Au marché', body: '' })
    // The newer version adds a field to the post too.
    feed.change((d) => {
      const posts = d.posts as Record<string, Record<string, unknown>>
      posts[ref.id]!.reactions = { '❤️': 3 }
    })
    await editPost(rt, db, profile, ref.id, { kind: 'request', category: 'lifts', title: 'Au marché samedi', body: 'Vers 9 h' })
    await expect.poll(async () => (await db.posts.get([ref.feed, ref.id]))?.title).toBe('Au marché samedi')
    const doc = A.toJS(feed.doc()) as Record<string, unknown>
    expect(doc.schemaVersion).toBe(2)
    expect(doc.badges).toEqual(['voisin solidaire'])
    expect((doc.posts as Record<string, Record<string, unknown>>)[ref.id]!.reactions).toEqual({ '❤️': 3 })
  })

  it('shows a post of a kind it does not know, and refuses to act on it rather than guess', async () => {
    const { db, rt, profile, feed, repo } = await setup()
    feed.change((d) => {
      const posts = d.posts as Record<string, Record<string, unknown>>
      posts.pFutureKind111111111111 = { id: 'pFutureKind111111111111', kind: 'swap-shop', category: 'garage', title: 'Troc de graines', body: '', createdAt: 5 }
    })
    await expect.poll(async () => (await db.posts.toArray()).map((p) => [p.kind, p.title])).toEqual([['swap-shop', 'Troc de graines']])
    // Another member tries to answer it: the unknown kind is not one with a help lifecycle.
    const other = { ...profile, id: newMemberId(), feed: repo.create(newFeed(profile.neighbourhood, newMemberId())).url as string as DocUrl }
    await expect(answerPost(rt, db, other, { feed: profile.feed, id: 'pFutureKind111111111111' as never }, 'Moi')).rejects.toMatchObject({ reason: 'not-help-kind' })
    await expect(acceptHelper(rt, db, profile, 'pFutureKind111111111111' as never, other.id)).rejects.toMatchObject({ reason: 'not-answered' })
  })

  it('reads a newer neighbourhood document and keeps its unknown fields', async () => {
    const { db, n } = await setup()
    await expect.poll(async () => (await db.neighbourhoods.toArray()).map((x) => x.name)).toEqual(['Le Bourg'])
    expect((A.toJS(n.doc()) as Record<string, unknown>).charterV2).toEqual({ text: 'Soyons aimables' })
  })
})
