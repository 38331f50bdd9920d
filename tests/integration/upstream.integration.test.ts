/**
 * Two relays chained with `--upstream` on loopback: a hall's relay (downstream) that peers with a
 * regional one (upstream), each with stock automerge-repo clients over real sockets and real files.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { newFeed } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { listFileStorageFirstParts } from '../../sync-server/storage/stored-documents.ts'
import { newMemberId, type DocUrl } from '../../shared/ids.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { relayFixtures } from '../helpers/fixtures.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { createNeighbourhoodAs, findOrNot, memberDevice } from '../helpers/member.ts'
import { encodeKey, generateMemberKeys } from '../../shared/identity.ts'
import { createInvitation } from '../../shared/invitation.ts'
import { loadRelayKeys } from '../../sync-server/access/sign-in.ts'
import { FileStorage } from '../../sync-server/storage/file-storage.ts'
import { createLogger } from '../../sync-server/log.ts'

interface Board {
  posts: string[]
}

// Clients first, then downstream relays, then upstream ones (registered in that reverse order).
const { relay, client, cleanups } = relayFixtures()

/** A regional relay, a hall relay peering with it, and one client on each. */
async function chain() {
  const region = await relay()
  const hall = await relay({ upstream: [region.wsUrl] })
  await waitFor(() => hall.logs.some((l) => l.msg === 'upstream connected'), { message: 'the hall relay connects upstream' })
  const atHall = client(hall.wsUrl)
  const atHome = client(region.wsUrl)
  return { region, hall, atHall, atHome }
}

const connections = (r: TestRelay, msg: string) => r.logs.filter((l) => l.msg === msg).length

describe('relays chained with --upstream', () => {
  it('lets a client of each relay see the other\'s changes, both ways', async () => {
    const { atHall, atHome } = await chain()

    const fromHall = atHall.repo.create<Board>({ posts: ['soupe à la salle des fêtes'] })
    const seenAtHome = await atHome.findEventually<Board>(fromHall.url)
    expect(seenAtHome.doc().posts).toEqual(['soupe à la salle des fêtes'])

    seenAtHome.change((d) => void d.posts.push('je viens avec du pain'))
    await waitFor(() => fromHall.doc().posts.includes('je viens avec du pain'), { message: 'the hall sees the answer from home' })

    // A document that exists only upstream: the hall relay asks its upstream for it.
    const fromHome = atHome.repo.create<Board>({ posts: ['perceuse à prêter'] })
    const seenAtHall = await atHall.findEventually<Board>(fromHome.url)
    expect(seenAtHall.doc().posts).toEqual(['perceuse à prêter'])
    seenAtHall.change((d) => void d.posts.push('merci !'))
    await waitFor(() => fromHome.doc().posts.includes('merci !'), { message: 'home sees the thanks from the hall' })
  })

  it('keeps both sides in step after the upstream restarts, and says so in its logs', async () => {
    const { region, hall, atHall, atHome } = await chain()
    const board = atHall.repo.create<Board>({ posts: ['before'] })
    const seenAtHome = await atHome.findEventually<Board>(board.url)

    await region.restart({ samePort: true })
    await waitFor(() => connections(hall, 'upstream connected') >= 2, { message: 'the hall relay reconnects upstream' })
    expect(hall.logs).toContainEqual(expect.objectContaining({ msg: 'upstream disconnected', upstream: region.wsUrl }))

    board.change((d) => void d.posts.push('after, from the hall'))
    await waitFor(() => seenAtHome.doc().posts.includes('after, from the hall'), { message: 'home sees a change made after the restart' })
    seenAtHome.change((d) => void d.posts.push('after, from home'))
    await waitFor(() => board.doc().posts.includes('after, from home'), { message: 'the hall sees a change made after the restart' })

    const late = atHome.repo.create<Board>({ posts: ['new upstream, after the restart'] })
    expect((await atHall.findEventually<Board>(late.url)).doc().posts).toEqual(['new upstream, after the restart'])
  })

  it('sends upstream what it stored while the line was down, even across its own restart', async () => {
    const region = await relay()
    const regionPort = region.port
    const hall = await relay({ upstream: [region.wsUrl] })
    await waitFor(() => connections(hall, 'upstream connected') === 1)

    // The line goes down (the regional relay is unreachable); the hall keeps working.
    await region.relay.close()
    await waitFor(() => connections(hall, 'upstream disconnected') === 1)
    const atHall = client(hall.wsUrl)
    const written = atHall.repo.create<Board>({ posts: ['écrit pendant la coupure'] })
    const probe = client(hall.wsUrl)
    await probe.findEventually<Board>(written.url) // the hall relay has it
    await probe.close()
    await atHall.close()

    // The hall relay restarts: the document is now only on its disk.
    await hall.restart()
    // The line comes back (its folder is removed after it stops: cleanups run in reverse).
    cleanups.push(() => rm(region.dataDir, { recursive: true, force: true }))
    const back = await relay({ dataDir: region.dataDir, port: regionPort })
    const atHome = client(back.wsUrl)
    expect((await atHome.findEventually<Board>(written.url)).doc().posts).toEqual(['écrit pendant la coupure'])
  })

  it('fetches the feeds a neighbourhood lists before anyone at the hall asks, so they outlast the line', async () => {
    const { region, hall, atHall, atHome } = await chain()
    // A neighbourhood started at the hall, as the app does it: created empty, then filled in.
    const founder = newMemberId()
    const n = atHall.repo.create<NeighbourhoodDoc>()
    const founderFeed = atHall.repo.create(newFeed(n.url as DocUrl, founder))
    const commune = { insee: '01001', name: "L'Abergement-Clémenciat", postcode: '01400' }
    n.change((d) =>
      Object.assign(d, newNeighbourhood({ name: 'Quartier de la gare', commune, creator: founder, creatorName: 'Louise', creatorFeed: founderFeed.url as DocUrl, now: Date.now() })),
    )
    // A neighbour joins from home, through the regional relay.
    const fromHome = await atHome.findEventually<NeighbourhoodDoc>(n.url)
    const joiner = newMemberId()
    const joinerFeed = atHome.repo.create({ ...newFeed(n.url as DocUrl, joiner), note: 'tondeuse à prêter' })
    fromHome.change((d) => {
      d.members[joiner] = { displayName: 'Marc', joinedAt: Date.now(), feed: joinerFeed.url as DocUrl }
    })
    // The hall relay follows the registry and stores the new feed without anyone at the hall asking.
    await waitFor(async () => (await listFileStorageFirstParts(hall.dataDir)).includes(joinerFeed.documentId), {
      message: 'the hall relay stores the new member feed',
    })

    // The line goes down; a phone at the hall still gets the feed, from the hall relay alone.
    await region.relay.close()
    await waitFor(() => connections(hall, 'upstream disconnected') === 1)
    const phone = client(hall.wsUrl)
    const feed = await phone.findEventually<{ note: string }>(joinerFeed.url)
    expect(feed.doc().note).toBe('tondeuse à prêter')
  })

  it('refuses to be its own upstream, and keeps serving its clients', async () => {
    // Take a free port, then start a relay on it that names itself as its upstream.
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise((resolve) => probe.close(resolve))
    const self = await relay({ port, upstream: [`ws://127.0.0.1:${port}/sync`] })
    await waitFor(() => self.logs.some((l) => l.detail === 'the upstream is this relay itself'), { message: 'it notices' })
    expect(connections(self, 'upstream connected')).toBe(0)
    const a = client(self.wsUrl)
    const b = client(self.wsUrl)
    const board = a.repo.create<Board>({ posts: ['toujours là'] })
    expect((await b.findEventually<Board>(board.url)).doc().posts).toEqual(['toujours là'])
  })
})

describe('relays that let in members only', () => {
  it('peer when the upstream trusts the hall relay’s key, and refuse a relay it does not trust', async () => {
    // The hall relay's key is made on its first start; make it first to give it to the region.
    const hallDir = await mkdtemp(join(tmpdir(), 'placette-hall-'))
    cleanups.push(() => rm(hallDir, { recursive: true, force: true }))
    const hallKeys = await loadRelayKeys(new FileStorage(hallDir, { log: createLogger({ level: 'silent' }) }), createLogger({ level: 'silent' }))
    const region = await startRelay({ trustRelays: [encodeKey(hallKeys.publicKey)] })
    cleanups.push(() => region.stop())
    const hall = await startRelay({ dataDir: hallDir, upstream: [region.wsUrl] })
    cleanups.push(() => hall.stop())
    await waitFor(() => hall.logs.some((l) => l.msg === 'upstream connected'), { message: 'the trusted hall relay connects upstream' })

    // A member at the hall creates a neighbourhood; a member at home, invited, reads it through the region.
    const atHall = memberDevice(hall.wsUrl, generateMemberKeys(), {})
    cleanups.push(() => atHall.sync.close())
    const { n, feed } = createNeighbourhoodAs(atHall, 'La Halle')
    feed.change((d) => void Object.assign(d.posts, { pAAAAAAAAAAAAAAAAAAAAAA: { id: 'pAAAAAAAAAAAAAAAAAAAAAA', kind: 'offer', category: 'other', title: 'Soupe', body: '', createdAt: 1, status: 'open' } }))
    const token = createInvitation({ neighbourhood: n.documentId, by: atHall.id, validDays: 7, uses: 2, now: Date.now() }, atHall.keys.secretKey)
    const atHome = memberDevice(region.wsUrl, generateMemberKeys(), { n: [n.documentId], inv: [token] })
    cleanups.push(() => atHome.sync.close())
    const seen = await waitFor(() => findOrNot<NeighbourhoodDoc>(atHome.sync.repo, n.url, 2000), { timeout: 20_000, message: 'home reads the neighbourhood through the region' })
    expect(seen.doc().name).toBe('La Halle')

    // Another relay, not trusted, is refused and gets nothing.
    const stranger = await startRelay({ upstream: [region.wsUrl] })
    cleanups.push(() => stranger.stop())
    await waitFor(() => region.logs.some((l) => l.msg === 'socket refused' && l.detail === 'relay not trusted'), { message: 'the region refuses the untrusted relay' })
    expect(stranger.logs.some((l) => l.msg === 'upstream connected')).toBe(false)
  })
})
