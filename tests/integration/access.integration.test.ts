import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as A from '@automerge/automerge'
import { cbor, Repo, type AutomergeUrl, type DocHandle } from '@automerge/automerge-repo'
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket'
import { encodeKey, generateMemberKeys, type MemberKeys } from '../../shared/identity.ts'
import { createInvitation } from '../../shared/invitation.ts'
import { signedSyncUrl } from '../../shared/relay-auth.ts'
import { CloseCode } from '../../shared/protocol.ts'
import { DIGEST_BUCKETS } from '../../shared/heads-digest.ts'
import { newFeed, type FeedDoc } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { DocUrl, PostId } from '../../shared/ids.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { listFileStorageFirstParts } from '../../sync-server/storage/stored-documents.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { createNeighbourhoodAs, findOrNot, memberDevice, type MemberDevice } from '../helpers/member.ts'
import { FakeWindow } from '../helpers/app-device.ts'
import { shutdownStock } from '../helpers/node-client.ts'
import { createClientSync } from '../../client/sync/repo.ts'
import type { TicketStore } from '../../client/sync/websocket-adapter.ts'

/**
 * The relay's gatekeeping (DESIGN.md §4), as an authorization matrix: each attacker — most of them the
 * stock automerge-repo client, which knows nothing of our sign-in — gets no document and a clear
 * refusal, while the legitimate members next to it keep syncing.
 */

type Member = MemberDevice

const docId = (url: string) => url.replace(/^automerge:/, '')

let relay: TestRelay
const clients: { close(): Promise<void> }[] = []

/** A device of a member, using the app's own sync stack and sign-in. */
function member(keys: MemberKeys, signIn: { n?: string[]; inv?: string[] }): MemberDevice {
  const device = memberDevice(relay.wsUrl, keys, signIn)
  clients.push(device.sync)
  return device
}

/** A raw socket: what the relay says to a connection, as close code and reason. */
function closeOf(url: string, send?: (ws: WebSocket) => void): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url)
    ws.on('open', () => send?.(ws))
    ws.on('error', () => undefined)
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
}

let referent: Member
let neighbour: Member
let nUrl: AutomergeUrl
let referentFeed: DocHandle<FeedDoc>
let neighbourFeed: DocHandle<FeedDoc>
const now = Date.now()

async function joinAs(who: Member, url: AutomergeUrl, token: string): Promise<DocHandle<FeedDoc>> {
  const n = await who.sync.repo.find<NeighbourhoodDoc>(url)
  const feed = who.sync.repo.create<FeedDoc>(newFeed(url as DocUrl, who.id))
  n.change((d) => {
    d.members[who.id] = { displayName: 'Voisin', joinedAt: Date.now(), feed: feed.url as DocUrl, publicKey: encodeKey(who.keys.publicKey), invitation: token }
  })
  return feed
}

const post = (feed: DocHandle<FeedDoc>, title: string) =>
  feed.change((d) => {
    const id = `p${title.replace(/[^1-9A-HJ-NP-Za-km-z]/g, '').padEnd(22, '1').slice(0, 22)}` as PostId
    d.posts[id] = { id, kind: 'request', category: 'other', title, body: '', createdAt: Date.now(), status: 'open' } as never
  })

const hasPost = (feed: DocHandle<FeedDoc> | undefined, title: string) => Object.values(feed?.doc()?.posts ?? {}).some((p) => String(p.title) === title)

beforeAll(async () => {
  relay = await startRelay({ echoLogs: !!process.env.ECHO })
  referent = member(generateMemberKeys(), {})
  const made = await createNeighbourhoodAs(referent, 'Le Bourg')
  nUrl = made.n.url
  referentFeed = made.feed
  post(referentFeed, 'Prête une perceuse')
  await waitFor(async () => (await listFileStorageFirstParts(relay.dataDir)).includes(docId(nUrl)), { message: 'the relay stored the neighbourhood' })

  const token = createInvitation({ neighbourhood: docId(nUrl), by: referent.id, validDays: 7, uses: 3, now }, referent.keys.secretKey)
  const neighbourKeys = generateMemberKeys()
  neighbour = member(neighbourKeys, { n: [docId(nUrl)], inv: [token] })
  neighbourFeed = await joinAs(neighbour, nUrl, token)
  post(neighbourFeed, 'Cherche covoiturage')
}, 60_000)

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined)
  await relay.stop()
})

describe('the relay lets members in and no one else', () => {
  it('syncs between an invited neighbour and the référent', async () => {
    const seen = await findOrNot<FeedDoc>(neighbour.sync.repo, referentFeed.url, 10_000)
    await waitFor(() => hasPost(seen, 'Prête une perceuse'), { message: 'the neighbour sees the référent’s post' })
    const back = await findOrNot<NeighbourhoodDoc>(referent.sync.repo, nUrl, 10_000)
    await waitFor(() => back?.doc()?.members[neighbour.id], { message: 'the référent sees the new neighbour' })
    const feed = await findOrNot<FeedDoc>(referent.sync.repo, neighbourFeed.url, 10_000)
    await waitFor(() => hasPost(feed, 'Cherche covoiturage'), { message: 'the référent sees the neighbour’s post' })
  })

  it('takes a member’s feed changes only from that member', async () => {
    // The neighbour may read the référent's feed, and writes into it: the relay keeps that to itself.
    const theirs = await findOrNot<FeedDoc>(neighbour.sync.repo, referentFeed.url, 10_000)
    post(theirs!, 'Usurpé')
    await waitFor(() => relay.logs.some((l) => l.msg === 'socket refused' && String(l.detail).startsWith('not-signed')), { message: 'the relay refuses the write' })
    post(referentFeed, 'Encore moi')
    await waitFor(() => hasPost(theirs, 'Encore moi'), { message: 'the neighbour keeps syncing' })
    const fresh = member(neighbour.keys, { n: [docId(nUrl)] })
    const seen = await findOrNot<FeedDoc>(fresh.sync.repo, referentFeed.url, 10_000)
    await waitFor(() => hasPost(seen, 'Encore moi'), { message: 'another device of the neighbour reads the feed' })
    expect(hasPost(seen, 'Usurpé')).toBe(false)
    expect(hasPost(referentFeed, 'Usurpé')).toBe(false)
    await fresh.sync.close()
  })

  it('refuses a socket with no sign-in, and the stock client gets nothing', async () => {
    expect(await closeOf(relay.wsUrl)).toEqual({ code: CloseCode.unauthorized, reason: 'sign-in required' })
    const stock = new Repo({ network: [new WebSocketClientAdapter(relay.wsUrl, 100)] })
    clients.push({ close: () => shutdownStock(stock) })
    expect(await findOrNot(stock, nUrl)).toBeUndefined()
    expect(await findOrNot(stock, referentFeed.url)).toBeUndefined()
  })

  it('refuses a forged, replayed or foreign-site sign-in', async () => {
    const keys = generateMemberKeys()
    const url = await signedSyncUrl(relay.wsUrl, { peer: 'p1' }, keys)
    const forged = new URL(url)
    const [body] = forged.searchParams.get('auth')!.split('.')
    forged.searchParams.set('auth', `${body}.${'A'.repeat(86)}`)
    expect((await closeOf(forged.toString())).reason).toBe('sign-in forged')
    // Used once, then replayed.
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(url)
      ws.on('open', () => ws.close())
      ws.on('close', () => resolve())
    })
    expect(await closeOf(url)).toEqual({ code: CloseCode.unauthorized, reason: 'sign-in expired' })
    // A page of another site, signing in with a genuine challenge.
    const fromElsewhere = await signedSyncUrl(relay.wsUrl, { peer: 'p2' }, keys)
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(fromElsewhere, { headers: { Origin: 'https://ailleurs.example' } })
      ws.on('error', () => undefined)
      ws.on('close', (_code, reason) => resolve(reason.toString()))
    })
    expect(refused).toBe('origin not allowed')
  })

  /** A device of a member on the app's sync stack that notes how it signs in and the tickets it is given. */
  function ticketed(keys: MemberKeys, spoilTickets: () => boolean = () => false, store?: TicketStore, unreachable: () => boolean = () => false) {
    const asked: string[] = []
    const tickets: string[] = []
    const states: string[] = []
    const window = new FakeWindow()
    const sync = createClientSync({
      relayUrl: relay.wsUrl,
      WebSocket: WebSocket as never,
      events: window as never,
      signIn: (url, peer, ticket) => {
        asked.push(ticket ? 'ticket' : 'challenge')
        // A stale ticket: as after a relay restart, or an hour later.
        const challenge = ticket && spoilTickets() ? `${ticket.slice(0, -4)}AAAA` : ticket
        // The network failing on the way: nothing listens on port 9.
        return signedSyncUrl(unreachable() ? 'ws://127.0.0.1:9/sync' : url, { peer, n: [docId(nUrl)] }, keys, challenge ? { challenge } : {})
      },
      tickets: store,
    })
    clients.push(sync)
    sync.relay.onConnection((c) => states.push(c.state))
    sync.relay.onRelayOpen((_relay, metadata) => tickets.push(String((metadata as { placetteTicket?: unknown }).placetteTicket)))
    const opened = (n: number) => waitFor(() => tickets.length >= n, { message: `connection ${n} open` })
    return { sync, window, asked, tickets, states, opened }
  }

  it('signs in again with the relay’s ticket instead of asking for a challenge, and falls back at once on a stale one', async () => {
    let spoil = false
    const { sync, window, asked, tickets, states, opened } = ticketed(referent.keys, () => spoil)
    await opened(1)
    expect(asked).toEqual(['challenge'])
    expect(tickets[0]).toMatch(/^t\./)

    window.set(false)
    window.set(true)
    await opened(2)
    expect(asked).toEqual(['challenge', 'ticket'])
    // Each join brings a new ticket; the one used is spent.
    expect(tickets[1]).not.toBe(tickets[0])
    expect(await closeOf(await signedSyncUrl(relay.wsUrl, { peer: 'p3' }, referent.keys, { challenge: tickets[0]! }))).toEqual({ code: CloseCode.unauthorized, reason: 'sign-in expired' })

    spoil = true
    window.set(false)
    window.set(true)
    await opened(3)
    expect(asked).toEqual(['challenge', 'ticket', 'ticket', 'challenge'])
    expect(states).not.toContain('refused')
    expect(await findOrNot(sync.repo, referentFeed.url)).toBeDefined()
  })

  it('signs in at its next start with the ticket its last run kept', async () => {
    let kept: string | undefined
    const store: TicketStore = {
      kept: async () => kept,
      keep: async (ticket) => void (kept = ticket),
      spent: async (ticket) => void (kept = kept === ticket ? undefined : kept),
    }
    const first = ticketed(referent.keys, undefined, store)
    await first.opened(1)
    await waitFor(() => kept !== undefined && kept === first.tickets[0], { message: 'the ticket kept' })
    await first.sync.close()
    // The app opened again: it takes the kept ticket, and keeps the relay's next one.
    const second = ticketed(referent.keys, undefined, store)
    await second.opened(1)
    expect([first.asked, second.asked]).toEqual([['challenge'], ['ticket']])
    expect(second.states).not.toContain('refused')
    await waitFor(() => kept === second.tickets[0], { message: 'the new ticket kept' })
  })

  it('keeps a ticket no relay took (the network failed on the way) for the next try', async () => {
    let down = false
    const { window, asked, opened } = ticketed(referent.keys, undefined, undefined, () => down)
    await opened(1)
    down = true
    window.set(false)
    window.set(true)
    await waitFor(() => asked.length >= 3, { message: 'two tries that fail' })
    down = false
    await opened(2)
    expect(asked[0]).toBe('challenge')
    expect(asked.slice(1).every((a) => a === 'ticket')).toBe(true)
  })

  it('takes a ticket only from the member it was given to', async () => {
    const { tickets, opened } = ticketed(referent.keys)
    await opened(1)
    const url = await signedSyncUrl(relay.wsUrl, { peer: 'p4', n: [docId(nUrl)] }, neighbour.keys, { challenge: tickets[0]! })
    expect(await closeOf(url)).toEqual({ code: CloseCode.unauthorized, reason: 'sign-in expired' })
  })

  it('refuses a spoofed peer ID', async () => {
    const url = await signedSyncUrl(relay.wsUrl, { peer: 'device-signed' }, neighbour.keys)
    const refused = await closeOf(url, (ws) => ws.send(joinFrame('device-other')))
    expect(refused.code).toBe(CloseCode.protocol)
  })

  it('refuses an expired invitation, clearly', async () => {
    const expired = createInvitation({ neighbourhood: docId(nUrl), by: referent.id, validDays: 1, uses: 5, now: now - 3 * 86_400_000 }, referent.keys.secretKey)
    const keys = generateMemberKeys()
    const url = await signedSyncUrl(relay.wsUrl, { peer: 'device-late', inv: [expired] }, keys)
    expect(await closeOf(url, (ws) => ws.send(joinFrame('device-late')))).toEqual({ code: CloseCode.forbidden, reason: 'invitation-expired' })
  })

  it('shows a member of another neighbourhood nothing of this one, even knowing the IDs', async () => {
    const outsider = member(generateMemberKeys(), {})
    await createNeighbourhoodAs(outsider, 'Ailleurs')
    expect(await findOrNot(outsider.sync.repo, nUrl)).toBeUndefined()
    expect(await findOrNot(outsider.sync.repo, referentFeed.url)).toBeUndefined()
    // Nor may they write into a member's feed: the change never reaches the référent.
    const stolen = outsider.sync.repo.import<FeedDoc>(A.save(neighbourFeed.doc()), { docId: neighbourFeed.documentId })
    post(stolen, 'Faux message')
    post(neighbourFeed, 'Toujours là')
    const seen = await findOrNot<FeedDoc>(referent.sync.repo, neighbourFeed.url, 10_000)
    await waitFor(() => hasPost(seen, 'Toujours là'), { message: 'the legitimate member keeps syncing' })
    expect(hasPost(seen, 'Faux message')).toBe(false)
  })

  it('refuses a pending member vouching', async () => {
    const token = createInvitation({ neighbourhood: docId(nUrl), by: referent.id, validDays: 7, uses: 1, now }, referent.keys.secretKey)
    const newcomer = member(generateMemberKeys(), { n: [docId(nUrl)], inv: [token] })
    await joinAs(newcomer, nUrl, token)
    const n = await newcomer.sync.repo.find<NeighbourhoodDoc>(nUrl)
    const seen = await findOrNot<NeighbourhoodDoc>(referent.sync.repo, nUrl, 10_000)
    await waitFor(() => seen?.doc()?.members[newcomer.id], { message: 'the newcomer joined' })
    n.change((d) => {
      d.members[newcomer.id]!.vouches = { [neighbour.id]: Date.now() } as never
    })
    await waitFor(() => newcomer.closes.includes(CloseCode.forbidden), { message: 'the pending member is refused' })
    expect(newcomer.sync.relay.connection).toMatchObject({ state: 'refused', message: 'pending-cannot-vouch' })
    expect(seen?.doc()?.members[newcomer.id]?.vouches).toBeUndefined()
  })

  it('answers the heads digest of someone outside the neighbourhood as if it held nothing', async () => {
    // Copies of the neighbourhood and a feed (a file passed on, say) on the device of a non-member:
    // its join carries a digest of them; the answer must say nothing about them.
    const outsider = member(generateMemberKeys(), {})
    const answers: unknown[] = []
    outsider.sync.relay.onRelayOpen((_relay, metadata) => answers.push((metadata as { placetteDigest?: unknown }).placetteDigest))
    const n = await referent.sync.repo.find<NeighbourhoodDoc>(nUrl)
    outsider.sync.repo.import(A.save(n.doc()), { docId: n.documentId })
    outsider.sync.repo.import(A.save(referentFeed.doc()), { docId: referentFeed.documentId })
    await waitFor(() => answers.length > 0, { message: 'the relay answers the outsider’s join' })
    expect(answers[0]).toEqual([{ differ: 2 ** DIGEST_BUCKETS - 1 }])
    // Whereas a member's digest of the same documents is answered (nothing differs for the référent's own copy).
    const insider = member(referent.keys, {})
    const insiderAnswers: unknown[] = []
    insider.sync.relay.onRelayOpen((_relay, metadata) => insiderAnswers.push((metadata as { placetteDigest?: unknown }).placetteDigest))
    insider.sync.repo.import(A.save(n.doc()), { docId: n.documentId })
    await waitFor(() => insiderAnswers.length > 0, { message: 'the relay answers the member’s join' })
    expect((insiderAnswers[0] as { differ: number }[])[0]!.differ).not.toBe(2 ** DIGEST_BUCKETS - 1)
  })

  it('cuts a revoked member off at once', async () => {
    const n = await referent.sync.repo.find<NeighbourhoodDoc>(nUrl)
    n.change((d) => {
      d.members[referent.id]!.revokes = { [neighbour.id]: Date.now() } as never
    })
    await waitFor(() => neighbour.closes.includes(CloseCode.forbidden), { message: 'the revoked member’s socket is closed' })
    post(referentFeed, 'Après la révocation')
    const again = await signedSyncUrl(relay.wsUrl, { peer: 'device-revoked', n: [docId(nUrl)] }, neighbour.keys)
    expect(await closeOf(again, (ws) => ws.send(joinFrame('device-revoked')))).toEqual({ code: CloseCode.forbidden, reason: 'cut-off' })
  })
})

function joinFrame(peer: string): Buffer {
  // A join as the stock client sends it (CBOR), built with the repo's encoder.
  return Buffer.from(cborEncode({ type: 'join', senderId: peer, peerMetadata: {}, supportedProtocolVersions: ['1'] }))
}

const cborEncode = (value: unknown) => cbor.encode(value)
