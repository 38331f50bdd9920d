/**
 * Catch-up bundles (shared/catch-up.ts): a device that comes back gets, in the relay's answer to its
 * join, the changes it lacks, applies them and ends with exactly the relay's heads, with no sync
 * exchange for those documents and no change sent twice. A device with changes of its own still syncs
 * them; a malformed bundle is refused and its documents sync as before; a gated relay sends nothing
 * to someone who may not read the documents.
 */
import * as A from '@automerge/automerge'
import type { DocHandle } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { generateMemberKeys } from '../../shared/identity.ts'
import type { PostId } from '../../shared/ids.ts'
import type { FeedDoc } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { MemoryStorage } from '../../sync-server/storage/memory-storage.ts'
import { listFileStorageFirstParts } from '../../sync-server/storage/stored-documents.ts'
import { appDevice, comeBack, goOffline, hexHeads, relayHolds, sameHeads, type AppDevice, type AppDeviceOptions, type Tamper } from '../helpers/app-device.ts'
import { createNeighbourhoodAs, memberDevice, writeSigned, type MemberDevice } from '../helpers/member.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { waitFor } from '../helpers/wait-for.ts'

/** A post written to the référent's own feed, signed, as the app writes it. */
function post(who: MemberDevice, feed: DocHandle<FeedDoc>): void {
  writeSigned(who, feed, (d) => {
    const id = 'p1111111111111111111111' as PostId
    d.posts[id] = { id, kind: 'request', category: 'other', title: 'Prête une perceuse', body: '', createdAt: Date.now(), status: 'open' } as never
  })
}

const FEEDS = 30

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** An app device with a storage of its own (a catch-up starts from what the relay knows of that storage). */
function device(r: TestRelay, options: AppDeviceOptions = {}): AppDevice {
  const d = appDevice(r.wsUrl, { storage: new MemoryStorage(), ...options })
  cleanups.push(() => d.sync.repo.shutdown().catch(() => undefined))
  return d
}

/** Sync messages the device exchanged with the relay about these documents. */
const syncedAbout = (d: AppDevice, handles: DocHandle<unknown>[]) => handles.reduce((n, h) => n + (d.syncMessages.get(h.documentId) ?? 0), 0)

/**
 * An open relay, a device A holding a board the relay holds, and a second device B with the same
 * documents. A goes offline; B changes the first `changed` feeds and the neighbourhood.
 */
async function awayWhileOthersWrite(changed: number, options: { tamper?: Tamper } = {}) {
  const r = await startRelay({ access: 'open' })
  cleanups.push(() => r.stop())
  const a = device(r, options)
  const feeds = Array.from({ length: FEEDS }, (_, i) => a.sync.repo.create<{ posts: string[] }>({ posts: [`post ${i}`] }))
  const n = a.sync.repo.create<{ type: string; members: Record<string, { feed: string }>; news?: string }>({
    type: 'placette/neighbourhood',
    members: Object.fromEntries(feeds.map((f, i) => [`m${i}`, { feed: f.url }])),
  })
  const all = [n, ...feeds] as DocHandle<unknown>[]
  await relayHolds(a, all)
  const b = device(r)
  const theirs = all.map((h) => b.sync.repo.import<unknown>(A.save(h.doc() as A.Doc<unknown>), { docId: h.documentId }))
  await relayHolds(b, theirs)

  await goOffline(a)
  for (const [i, h] of theirs.slice(1, changed + 1).entries())
    (h as DocHandle<{ posts: string[] }>).change((d) => {
      d.posts.push(`written on B while A was away ${i}`)
      d.posts.push('and a second line')
    })
  ;(theirs[0] as DocHandle<{ news?: string }>).change((d) => void (d.news = 'une nouvelle'))
  await relayHolds(b, theirs)
  a.syncMessages.clear()
  return { r, a, b, all, theirs }
}

describe('catch-up bundles', () => {
  it('bring a returning device to exactly the relay’s heads in the join’s answer, with no sync exchange and nothing twice', async () => {
    const { a, all, theirs } = await awayWhileOthersWrite(10)
    await comeBack(a)

    const [report] = a.catchUps
    expect(report?.refused).toEqual([])
    expect(new Set(report?.applied)).toEqual(new Set(theirs.slice(0, 11).map((h) => h.documentId)))
    // Every document at exactly the relay's heads (B's, which the relay wrote), and once A's handles
    // have the changes, not one of the changed documents ran a sync exchange.
    for (const [i, h] of all.entries()) expect(hexHeads(h).sort()).toEqual(hexHeads(theirs[i]!).sort())
    const probe = a.sync.repo.create({ probe: true })
    await relayHolds(a, [probe])
    expect(syncedAbout(a, all)).toBe(0)
    // Nothing duplicated: the same history as B's, change for change.
    for (const [i, h] of all.entries()) {
      const ours = A.getAllChanges(h.doc() as A.Doc<unknown>).map((c) => A.decodeChange(c).hash)
      expect(new Set(ours).size).toBe(ours.length)
      expect(ours.length).toBe(A.getAllChanges(theirs[i]!.doc() as A.Doc<unknown>).length)
    }
    // The relay's next sync starts from the caught-up heads: a later change costs one change, not the bundle again.
    await goOffline(a)
    ;(theirs[1] as DocHandle<{ posts: string[] }>).change((d) => void d.posts.push('once more'))
    await waitFor(() => a.catchUps.length === 1, { message: 'nothing more' })
    await comeBack(a)
    await waitFor(() => sameHeads(hexHeads(all[1]!), hexHeads(theirs[1]!)), { message: 'A gets the later change' })
    const second = a.catchUps[1]
    expect(second?.applied).toEqual([all[1]!.documentId])
  })

  it('still syncs what the device wrote while away, and the relay gets it', async () => {
    const { a, b, all, theirs } = await awayWhileOthersWrite(3)
    ;(all[2] as DocHandle<{ posts: string[] }>).change((d) => void d.posts.push('written offline on A'))
    await comeBack(a)
    await waitFor(() => (theirs[2] as DocHandle<{ posts: string[] }>).doc().posts.includes('written offline on A'), { message: 'B gets A’s offline change' })
    await waitFor(() => sameHeads(hexHeads(all[2]!), hexHeads(theirs[2]!)), { message: 'A and B converge' })
    expect(a.catchUps[0]?.behind).toEqual([all[2]!.documentId])
    expect(a.catchUps[0]?.applied).toContain(all[1]!.documentId)
    expect(b.catchUps).toEqual([])
  })

  it('refuses a malformed bundle clearly, and its documents sync as before', async () => {
    const tamper: Tamper = (peer) => {
      const answers = (peer.peerMetadata as { placetteDigest?: { catchUp?: { key: Uint8Array }[] }[] }).placetteDigest
      const first = answers?.[0]?.catchUp?.[0]
      if (first) first.key = new Uint8Array(3)
    }
    const { a, all, theirs } = await awayWhileOthersWrite(5, { tamper })
    await comeBack(a)
    expect(a.catchUps[0]?.refused).toEqual(['bad catch-up key'])
    expect(a.catchUps[0]?.applied).toEqual([])
    for (const [i, h] of all.entries()) await waitFor(() => sameHeads(hexHeads(h), hexHeads(theirs[i]!)), { message: 'A syncs every document as before' })
    expect(a.sync.relay.connection.state).toBe('open')
  })

  it('leaves garbage changes unapplied: the document syncs as before', async () => {
    const tamper: Tamper = (peer) => {
      const answers = (peer.peerMetadata as { placetteDigest?: { catchUp?: { changes: Uint8Array }[] }[] }).placetteDigest
      for (const doc of answers?.[0]?.catchUp ?? []) doc.changes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
    const { a, all, theirs } = await awayWhileOthersWrite(4, { tamper })
    await comeBack(a)
    expect(a.catchUps[0]?.applied).toEqual([])
    expect(a.catchUps[0]!.behind.length + a.catchUps[0]!.refused.length).toBe(5)
    for (const [i, h] of all.entries()) await waitFor(() => sameHeads(hexHeads(h), hexHeads(theirs[i]!)), { message: 'A syncs every document as before' })
  })
})

describe('catch-up bundles behind the gate', () => {
  it('are never sent to someone who may not read the documents, even from storage the relay has synced with', async () => {
    const r = await startRelay()
    cleanups.push(() => r.stop())
    const referent = memberDevice(r.wsUrl, generateMemberKeys(), {})
    cleanups.push(() => referent.sync.close().catch(() => undefined))
    const onDisk = new Map<string, string[]>()
    referent.sync.relay.onPersistedHeads((id, heads) => onDisk.set(id, heads))
    const { n, feed } = createNeighbourhoodAs(referent, 'Le Bourg')
    await waitFor(async () => (await listFileStorageFirstParts(r.dataDir)).includes(n.documentId), { message: 'the relay stored the neighbourhood' })
    // A second device of the référent, with its own storage, syncs the board, writes to her feed (so
    // the relay has heard its heads: a catch-up would start from those) and goes away.
    const storage = new MemoryStorage()
    const insider = device(r, { storage, keys: referent.keys })
    await insider.sync.repo.find<NeighbourhoodDoc>(n.url)
    const hers = await insider.sync.repo.find<FeedDoc>(feed.url)
    writeSigned({ ...referent, sync: insider.sync }, hers, (d) => void (d.posts = {}))
    await waitFor(() => sameHeads(hexHeads(feed as DocHandle<unknown>), hexHeads(hers as DocHandle<unknown>)), { timeout: 20_000, message: 'the référent gets her change' })
    await insider.sync.close()
    post(referent, feed)
    await waitFor(() => sameHeads(onDisk.get(feed.documentId), hexHeads(feed as DocHandle<unknown>)), { message: 'the relay writes the référent’s post' })

    // The same storage (same storage ID, so the relay's sync states apply), signed in by someone else.
    const outsider = device(r, { storage, keys: generateMemberKeys() })
    const answers: unknown[] = []
    outsider.sync.relay.onRelayOpen((_relay, metadata) => answers.push((metadata as { placetteDigest?: unknown }).placetteDigest))
    await outsider.sync.repo.find(n.url, { allowableStates: ['ready', 'unavailable'] })
    await waitFor(() => answers.length > 0, { message: 'the relay answers the outsider' })
    expect(JSON.stringify(answers[0], (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v))).not.toContain('catchUp')
    expect(outsider.catchUps).toEqual([])
    const seen = await outsider.sync.repo.find<FeedDoc>(feed.url)
    expect(Object.keys(seen.doc().posts)).toEqual([])
  })
})
