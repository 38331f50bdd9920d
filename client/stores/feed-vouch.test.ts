import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { Repo } from '@automerge/automerge-repo'
import { vouchForOwnFeed } from './commands.ts'
import { openDb, type Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'
import { generateMemberKeys, memberIdFor } from '../../shared/identity.ts'
import { newFeed, type FeedDoc } from '../../shared/schema/feed.ts'
import { checkFeed, signChange } from '../../shared/signed-changes.ts'
import { randomId, type DocUrl } from '../../shared/ids.ts'

// The first start of a signing version on a device whose member wrote their feed before signatures.
let cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanup) await c()
  cleanup = []
})

function legacyDevice() {
  const db = openDb(`test-${randomId()}`)
  const repo = new Repo({ network: [] })
  cleanup.push(async () => {
    await repo.shutdown()
    db.close()
  })
  const keys = generateMemberKeys()
  const id = memberIdFor(keys.publicKey)
  const n = `automerge:${randomId()}` as DocUrl
  // Written as older versions did: plain, unsigned changes.
  const feed = repo.create<FeedDoc>(newFeed(n, id))
  feed.change((d) => void (d.posts = {}))
  const profile: Profile = { id, keys, displayName: 'Lucie', neighbourhood: n, feed: feed.url as DocUrl, createdAt: 1 }
  const strict = () => checkFeed(feed.doc(), { documentId: feed.documentId, publicKey: keys.publicKey })
  return { db, repo, rt: { repo } as unknown as Runtime, feed, profile, keys, strict }
}

describe('vouching for one’s own feed at the first start of a signing version', () => {
  it('signs once on top of the unsigned history, which then counts as the owner’s', async () => {
    const { db, rt, feed, profile, strict } = legacyDevice()
    expect(strict().signed).toBe(false)
    await vouchForOwnFeed(rt, db, profile)
    expect(strict()).toMatchObject({ signed: true, invalid: [] })
    expect(feed.doc().signedFrom).toBeGreaterThan(0)
    const heads = A.getHeads(feed.doc())
    await vouchForOwnFeed(rt, db, profile)
    expect(A.getHeads(feed.doc())).toEqual(heads)
  })

  it('does not vouch for a change carrying someone else’s signature', async () => {
    const { db, rt, feed, profile, strict } = legacyDevice()
    const other = generateMemberKeys()
    const forged = signChange(A.getLastLocalChange(A.change(A.clone(feed.doc()), (d) => void (d.signedFrom = 1)))!, feed.documentId, other.secretKey)
    feed.update((doc) => A.applyChanges(doc, [forged])[0])
    await vouchForOwnFeed(rt, db, profile)
    const check = strict()
    expect(check.signed).toBe(true)
    expect(check.invalid).toHaveLength(1)
  })
})
