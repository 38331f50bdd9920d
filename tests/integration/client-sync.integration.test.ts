import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { rm } from 'node:fs/promises'
import type { AutomergeUrl } from '@automerge/automerge-repo'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import type { RelayConnection } from '../../client/sync/websocket-adapter.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { waitFor } from '../helpers/wait-for.ts'

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
