import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { rm } from 'node:fs/promises'
import type { AutomergeUrl } from '@automerge/automerge-repo'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import type { RelayConnection } from '../../client/sync/websocket-adapter.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { rawSocket } from '../helpers/raw-socket.ts'
import { Admission, WINDOW } from '../../sync-server/admission.ts'
import { CloseCode } from '../../shared/protocol.ts'

// The app's own sync stack (client/sync: our relay adapter) against a real relay, in Node.

/** Stands in for `window`: the device's idea of whether it is online, and its events. */
class FakeDevice extends EventTarget {
  navigator = { onLine: true }
  goOffline() {
    this.navigator.onLine = false
    this.dispatchEvent(new Event('offline'))
  }
  goOnline() {
    this.navigator.onLine = true
    this.dispatchEvent(new Event('online'))
  }
}

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function setup() {
  const relay: TestRelay = await startRelay({ access: 'open' })
  cleanups.push(() => relay.stop())
  const device = new FakeDevice()
  const app: ClientSync = createClientSync({
    relayUrl: relay.wsUrl,
    WebSocket: WebSocket as never,
    events: device as never,
  })
  cleanups.push(() => app.repo.shutdown())
  const states: RelayConnection['state'][] = []
  app.relay.onConnection((c) => states.push(c.state))
  const other: NodeClient = nodeClient(relay.wsUrl)
  cleanups.push(() => other.close())
  return { relay, device, app, other, states }
}

describe('client sync through the relay', () => {
  it('connects, says so, and sends a change to another client', async () => {
    const { app, other, states } = await setup()
    await waitFor(() => app.relay.connection.state === 'open', { message: 'app connects' })
    const handle = app.repo.create<{ title: string }>({ title: 'Conduire au marché' })
    const seen = await other.findEventually<{ title: string }>(handle.url)
    expect(seen.doc().title).toBe('Conduire au marché')
    expect(states).toContain('open')
  })

  it('says it is offline when the device goes offline, and catches up as soon as it is back online', async () => {
    const { app, other, device } = await setup()
    await waitFor(() => app.relay.connection.state === 'open')
    const mine = app.repo.create<{ n: number }>({ n: 0 })
    const theirs = await other.findEventually<{ n: number }>(mine.url)

    device.goOffline()
    expect(app.relay.connection.state).toBe('offline')
    mine.change((d) => (d.n = 1)) // written offline
    theirs.change((d) => (d.n = 2)) // and meanwhile elsewhere
    expect(theirs.doc().n).toBe(2)

    device.goOnline()
    await waitFor(() => app.relay.connection.state === 'open', { timeout: 3000, message: 'reconnects on online' })
    await waitFor(() => mine.doc().n === theirs.doc().n, { message: 'both converge' })
  })

  it('keeps retrying while the relay is down and reconnects when it is back', async () => {
    const relay = await startRelay({ access: 'open' })
    const port = relay.port
    cleanups.push(() => rm(relay.dataDir, { recursive: true, force: true }))
    const app = createClientSync({ relayUrl: relay.wsUrl, WebSocket: WebSocket as never, events: new FakeDevice() as never })
    cleanups.push(() => app.repo.shutdown())
    await waitFor(() => app.relay.connection.state === 'open')
    await relay.relay.close()
    await waitFor(() => app.relay.connection.state === 'unreachable', { message: 'notices the relay is gone' })
    // Same port again, as a town hall's relay coming back after a power cut.
    const again = await startRelay({ dataDir: relay.dataDir, port, access: 'open' })
    cleanups.push(() => again.stop())
    await waitFor(() => app.relay.connection.state === 'open', { timeout: 10_000, message: 'reconnects to the restarted relay' })
    const handle = app.repo.create<{ ok: boolean }>({ ok: true })
    const other = nodeClient(again.wsUrl)
    cleanups.push(() => other.close())
    expect((await other.findEventually<{ ok: boolean }>(handle.url as AutomergeUrl)).doc().ok).toBe(true)
  })
})

describe('a saturated relay', () => {
  it('turns newcomers away with a time to come back, keeps serving the connected, and takes the newcomer later with its changes', async () => {
    let utilization = 0
    const admission = new Admission({ retryAfterSeconds: 1 }, () => utilization)
    const saturate = (value: number) => {
      utilization = value
      for (let i = 0; i < WINDOW; i++) admission.sample()
    }
    const relay = await startRelay({ access: 'open', admission })
    cleanups.push(() => relay.stop())
    const before = nodeClient(relay.wsUrl)
    cleanups.push(() => before.close())
    const second = nodeClient(relay.wsUrl)
    cleanups.push(() => second.close())
    const theirs = before.repo.create<{ n: number }>({ n: 1 })
    const seen = await second.findEventually<{ n: number }>(theirs.url)

    saturate(0.97)
    expect(relay.relay.stats()).toMatchObject({ busy: true, eventLoopUtilization: 0.97 })
    // A bare socket sees the code and the delay.
    const raw = await rawSocket(relay.wsUrl)
    expect(await raw.closed).toEqual({ code: CloseCode.busy, reason: 'busy, retry in 1 s' })

    // The app says so, with the time it will try again, and keeps what is written meanwhile.
    const device = new FakeDevice()
    const app = createClientSync({ relayUrl: relay.wsUrl, WebSocket: WebSocket as never, events: device as never })
    cleanups.push(() => app.repo.shutdown())
    await waitFor(() => app.relay.connection.state === 'busy', { message: 'the app is told the relay is busy' })
    const c = app.relay.connection as Extract<RelayConnection, { state: 'busy' }>
    expect(c.retryAt).toBeGreaterThan(Date.now())
    const mine = app.repo.create<{ title: string }>({ title: 'Qui peut arroser mes tomates ?' })
    // The network coming back is no reason to knock before the relay said.
    device.dispatchEvent(new Event('online'))
    expect(app.relay.connection.state).toBe('busy')
    // The connected clients are still served.
    theirs.change((d) => (d.n = 2))
    await waitFor(() => seen.doc().n === 2, { message: 'a change between connected clients goes through' })
    expect(relay.relay.stats().busy).toBe(true)
    const text = await fetch(`${relay.url}/metrics`).then((r) => r.text())
    expect(text).toMatch(/placette_relay_frames_refused_total\{reason="busy"\} [1-9]/)
    expect(text).toContain('\nplacette_relay_busy 1\n')

    saturate(0.2)
    expect(relay.relay.stats().busy).toBe(false)
    await waitFor(() => app.relay.connection.state === 'open', { timeout: 5_000, message: 'the app comes back when it was told' })
    expect((await before.findEventually<{ title: string }>(mine.url)).doc().title).toBe('Qui peut arroser mes tomates ?')
  })
})
