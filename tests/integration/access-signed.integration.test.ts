import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import type { AutomergeUrl, DocHandle } from '@automerge/automerge-repo'
import { encodeKey, generateMemberKeys, type MemberKeys } from '../../shared/identity.ts'
import { createInvitation } from '../../shared/invitation.ts'
import { newFeed, type FeedDoc } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { changeSigned, signChange } from '../../shared/signed-changes.ts'
import type { DocUrl, PostId } from '../../shared/ids.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { listFileStorageFirstParts } from '../../sync-server/storage/stored-documents.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { createNeighbourhoodAs, findOrNot, memberDevice, writeSigned, type MemberDevice } from '../helpers/member.ts'

/**
 * Feed changes passed on by another member (DESIGN.md §4): the relay takes them when the feed's owner
 * signed them, refuses them otherwise, and everyone keeps syncing.
 */

const docId = (url: string) => url.replace(/^automerge:/, '')
let relay: TestRelay
const devices: MemberDevice[] = []
let referent: MemberDevice
let owner: MemberDevice
let carrier: MemberDevice
let nUrl: AutomergeUrl
let ownerFeed: DocHandle<FeedDoc>

function member(keys: MemberKeys, signIn: { n?: string[]; inv?: string[] }): MemberDevice {
  const device = memberDevice(relay.wsUrl, keys, signIn)
  devices.push(device)
  return device
}

/** Joins as the app does: the feed made and signed by its owner, then the registry entry. */
async function join(keys: MemberKeys): Promise<{ who: MemberDevice; feed: DocHandle<FeedDoc> }> {
  const token = createInvitation({ neighbourhood: docId(nUrl), by: referent.id, validDays: 7, uses: 1, now: Date.now() }, referent.keys.secretKey)
  const who = member(keys, { n: [docId(nUrl)], inv: [token] })
  const n = await who.sync.repo.find<NeighbourhoodDoc>(nUrl)
  const feed = who.sync.repo.create<FeedDoc>()
  writeSigned(who, feed, (d) => Object.assign(d, newFeed(nUrl as DocUrl, who.id)))
  n.change((d) => {
    d.members[who.id] = { displayName: 'Voisin', joinedAt: Date.now(), feed: feed.url as DocUrl, publicKey: encodeKey(keys.publicKey), invitation: token }
  })
  return { who, feed }
}

const postId = (title: string) => `p${title.replace(/[^1-9A-HJ-NP-Za-km-z]/g, '').padEnd(22, '1').slice(0, 22)}` as PostId
const addPost = (title: string) => (d: FeedDoc) => {
  const id = postId(title)
  d.posts[id] = { id, kind: 'request', category: 'other', title, body: '', createdAt: Date.now(), status: 'open' } as never
}
const hasPost = (feed: DocHandle<FeedDoc> | undefined, title: string) => Object.values(feed?.doc()?.posts ?? {}).some((p) => String(p.title) === title)
/** Puts changes into a device's copy of a feed, as opening a sync file does. */
const receive = (handle: DocHandle<FeedDoc>, changes: Uint8Array[]) => handle.update((doc) => A.applyChanges(doc, changes)[0])
const refusals = () => relay.logs.filter((l) => l.msg === 'socket refused' && String(l.detail).startsWith('not-signed')).length

beforeAll(async () => {
  relay = await startRelay({ echoLogs: !!process.env.ECHO })
  referent = member(generateMemberKeys(), {})
  nUrl = createNeighbourhoodAs(referent, 'Le Bourg').n.url
  await waitFor(async () => (await listFileStorageFirstParts(relay.dataDir)).includes(docId(nUrl)), { message: 'the relay stored the neighbourhood' })
  ;({ who: owner, feed: ownerFeed } = await join(generateMemberKeys()))
  writeSigned(owner, ownerFeed, addPost('Prête une perceuse'))
  ;({ who: carrier } = await join(generateMemberKeys()))
  const seen = await findOrNot<FeedDoc>(referent.sync.repo, ownerFeed.url, 10_000)
  await waitFor(() => hasPost(seen, 'Prête une perceuse'), { message: 'the référent sees the owner’s first post' })
}, 60_000)

afterAll(async () => {
  for (const d of devices) await d.sync.close().catch(() => undefined)
  await relay.stop()
})

describe('feed changes passed on by another member', () => {
  it('are accepted when the owner signed them', async () => {
    const carried = await findOrNot<FeedDoc>(carrier.sync.repo, ownerFeed.url, 10_000)
    await waitFor(() => hasPost(carried, 'Prête une perceuse'), { message: 'the carrier has the owner’s feed' })
    // The owner writes offline (a copy of their feed, away from the relay) and hands the carrier a file.
    const offline = A.clone(ownerFeed.doc())
    const later = changeSigned(offline, addPost('Donne des pots de confiture'), { documentId: ownerFeed.documentId, secretKey: owner.keys.secretKey })
    receive(carried!, A.getChanges(offline, later))
    const seen = await findOrNot<FeedDoc>(referent.sync.repo, ownerFeed.url, 10_000)
    await waitFor(() => hasPost(seen, 'Donne des pots de confiture'), { message: 'the référent gets the signed change through the carrier' })
    expect(refusals()).toBe(0)
  })

  it('are refused when unsigned or signed by someone else, and everyone keeps syncing', async () => {
    const carried = (await findOrNot<FeedDoc>(carrier.sync.repo, ownerFeed.url, 10_000))!
    const tampered = A.getLastLocalChange(A.change(A.clone(carried.doc()), addPost('Vends la perceuse 500 €')))!
    // A change signed with the carrier's own key, as someone re-signing the owner's feed would.
    const resigned = signChange(A.getLastLocalChange(A.change(A.clone(carried.doc()), addPost('Faux, signé par un autre')))!, ownerFeed.documentId, carrier.keys.secretKey)
    receive(carried, [tampered, resigned])
    await waitFor(() => refusals() > 0, { message: 'the relay refuses the forged changes' })
    // Nobody's socket was closed: the carrier and the référent keep syncing.
    expect(carrier.closes).toEqual([])
    writeSigned(owner, ownerFeed, addPost('Toujours là'))
    const seen = await findOrNot<FeedDoc>(referent.sync.repo, ownerFeed.url, 10_000)
    await waitFor(() => hasPost(seen, 'Toujours là'), { message: 'the owner’s own writes still reach the référent' })
    await waitFor(() => hasPost(carried, 'Toujours là'), { message: 'the carrier still gets the owner’s writes' })
    expect(hasPost(seen, 'Vends la perceuse 500 €')).toBe(false)
    expect(hasPost(seen, 'Faux, signé par un autre')).toBe(false)
  })
})
