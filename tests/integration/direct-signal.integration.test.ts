import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import { startRelaySignalling } from '../../client/sync/direct-relay.ts'
import type { Runtime } from '../../client/sync/runtime.ts'
import { newMemberId, type DocUrl } from '../../shared/ids.ts'
import { appDevice, reconnect, relayHolds } from '../helpers/app-device.ts'
import { startRelay } from '../helpers/relay.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Signalling a direct link rides on ephemeral messages of the neighbourhood document: the relay must
// pass them on, both ways, through its frame checks.

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

function client(wsUrl: string): ClientSync {
  const c = createClientSync({ relayUrl: wsUrl, WebSocket: WebSocket as never })
  cleanups.push(() => c.repo.shutdown())
  return c
}

describe('signalling through the relay', () => {
  it('passes ephemeral messages on a document between two clients, both ways', async () => {
    const relay = await startRelay({ access: 'open' })
    cleanups.push(() => relay.stop())
    const a = client(relay.wsUrl)
    const b = client(relay.wsUrl)
    await waitFor(() => a.relay.connection.state === 'open' && b.relay.connection.state === 'open')
    const docA = a.repo.create<{ name: string }>({ name: 'La Place' })
    await waitFor(async () => (await relay.relay.stats()).documents > 0)
    const docB = await b.repo.find<{ name: string }>(docA.url)
    expect(docB.doc().name).toBe('La Place')

    const atA: unknown[] = []
    const atB: unknown[] = []
    docA.on('ephemeral-message', (e) => atA.push(e.message))
    docB.on('ephemeral-message', (e) => atB.push(e.message))
    const sdp = 'v=0\r\n' + 'a=candidate:1 1 udp 2113937151 192.168.1.20 54321 typ host\r\n'.repeat(40)
    docA.broadcast({ type: 'direct-test', from: 'a', sdp })
    docB.broadcast({ type: 'direct-test', from: 'b' })
    await waitFor(() => atA.length > 0 && atB.length > 0, { message: 'each side hears the other' })
    expect(atB[0]).toEqual({ type: 'direct-test', from: 'a', sdp })
    expect(atA[0]).toEqual({ type: 'direct-test', from: 'b' })
    // Neither phone passed the other's message back to the relay, which would have cut it off.
    expect(relay.logs.filter((l) => l.msg === 'socket refused')).toEqual([])
    expect(relay.logs.filter((l) => l.msg === 'peer joined')).toHaveLength(2)
  })

  it('keeps signalling to one relay: a hall relay does not pass it upstream, so the link between relays stays up', async () => {
    const region = await startRelay({ access: 'open' })
    cleanups.push(() => region.stop())
    const hall = await startRelay({ access: 'open', upstream: [region.wsUrl] })
    cleanups.push(() => hall.stop())
    await waitFor(() => hall.logs.some((l) => l.msg === 'upstream connected'), { message: 'the hall relay connects upstream' })
    const a = client(hall.wsUrl)
    const b = client(hall.wsUrl)
    await waitFor(() => a.relay.connection.state === 'open' && b.relay.connection.state === 'open')
    const docA = a.repo.create<{ name: string }>({ name: 'La Place' })
    const docB = await b.repo.find<{ name: string }>(docA.url)
    await waitFor(async () => (await region.relay.stats()).documents > 0, { message: 'the document reaches the region' })

    const atB: unknown[] = []
    docB.on('ephemeral-message', (e) => atB.push(e.message))
    docA.broadcast({ type: 'direct-test', from: 'a' })
    await waitFor(() => atB.length > 0, { message: 'b hears a through the hall' })
    docA.change((d) => void (d.name = 'La Grand-Place'))
    await waitFor(async () => (await region.relay.stats()).documents > 0 && region.logs.some((l) => l.msg === 'peer joined'))
    expect(region.logs.filter((l) => l.msg === 'socket refused')).toEqual([])
    expect(hall.logs.filter((l) => l.msg === 'socket refused')).toEqual([])
  })

  it('finds the neighbours connected now even when a reconnection found the neighbourhood unchanged', async () => {
    // The heads digest holds back the sync of documents the relay has at the same heads, and
    // automerge-repo passes ephemeral messages only between peers syncing the document: presence
    // keeps the neighbourhood document syncing (heads-digest.ts `keepSyncing`), or nobody hears it.
    const relay = await startRelay({ access: 'open' })
    cleanups.push(() => relay.stop())
    const nadia = appDevice(relay.wsUrl)
    const paul = appDevice(relay.wsUrl)
    cleanups.push(() => nadia.sync.repo.shutdown(), () => paul.sync.repo.shutdown())
    const [nadiaId, paulId] = [newMemberId(), newMemberId()]
    const n = nadia.sync.repo.create({ type: 'placette/neighbourhood', members: { [nadiaId]: {}, [paulId]: {} } })
    await relayHolds(nadia, [n])
    const theirs = await paul.sync.repo.find(n.url)
    await relayHolds(paul, [theirs])
    // Both come back with nothing new: the relay's answers find the neighbourhood the same.
    await reconnect(nadia)
    await reconnect(paul)

    const url = n.url as unknown as DocUrl
    const atNadia = await startRelaySignalling(nadia.sync as Runtime, nadiaId, url, () => undefined)
    const atPaul = await startRelaySignalling(paul.sync as Runtime, paulId, url, () => undefined)
    cleanups.push(async () => atNadia.close(), async () => atPaul.close())
    await waitFor(() => atNadia.here().some((p) => p.member === paulId), { message: 'Nadia sees Paul connected' })
    await waitFor(() => atPaul.here().some((p) => p.member === nadiaId), { message: 'Paul sees Nadia connected' })
  })
})
