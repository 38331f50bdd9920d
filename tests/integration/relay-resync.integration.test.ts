/**
 * Two ways the relay used to keep a client behind for good, both found by the convergence simulation
 * (tests/sim) and reproduced here with a real relay and real sockets.
 */
import { next as A } from '@automerge/automerge'
import { Repo, type PeerId } from '@automerge/automerge-repo'
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { rawSocket, type RawSocket } from '../helpers/raw-socket.ts'
import { startRelay, type TestRelay } from '../helpers/relay.ts'
import { waitFor } from '../helpers/wait-for.ts'

interface Counter {
  n: number
  posts?: Record<string, string>
}

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function relay(): Promise<TestRelay> {
  const r = await startRelay({ access: 'open' })
  cleanups.push(() => r.stop())
  return r
}

function client(wsUrl: string): NodeClient {
  const c = nodeClient(wsUrl)
  cleanups.push(() => c.close())
  return c
}

/** One document synced by hand over a raw socket, so a test can decide which frames are "lost". */
class HandSync {
  doc = A.init<Counter>()
  state = A.initSyncState()
  relayId = ''
  socket!: RawSocket
  #seen = 0

  constructor(
    readonly peerId: string,
    readonly documentId: string,
  ) {}

  async connect(wsUrl: string): Promise<void> {
    this.socket = await rawSocket(wsUrl)
    this.#seen = 0
    cleanups.push(() => this.socket.close())
    this.socket.sendCbor({ type: 'join', senderId: this.peerId, peerMetadata: { isEphemeral: true }, supportedProtocolVersions: ['1'] })
    this.relayId = (await this.socket.next('peer')).senderId as string
  }

  /** Sends what the sync protocol says to send now (a request while we have nothing). */
  say(): void {
    const [state, data] = A.generateSyncMessage(this.doc, this.state)
    this.state = state
    if (!data) return
    const type = A.getHeads(this.doc).length === 0 ? 'request' : 'sync'
    this.socket.sendCbor({ type, senderId: this.peerId, targetId: this.relayId, documentId: this.documentId, data })
  }

  /** Sync frames received since the last call. */
  newFrames(): Array<{ data: Uint8Array }> {
    const frames = this.socket.received.slice(this.#seen).filter((m) => m.type === 'sync' && m.documentId === this.documentId)
    this.#seen = this.socket.received.length
    return frames as unknown as Array<{ data: Uint8Array }>
  }

  /** Applies what arrived and answers, until `done` holds. */
  async syncUntil(done: () => boolean, message: string): Promise<void> {
    this.say()
    await waitFor(
      () => {
        for (const frame of this.newFrames()) {
          ;[this.doc, this.state] = A.receiveSyncMessage(this.doc, this.state, frame.data)
          this.say()
        }
        return done()
      },
      { timeout: 3000, message },
    )
  }
}

describe('the relay after a reconnection', () => {
  it('still sends a client only the documents it asked for', async () => {
    const r = await relay()
    const first = new WebSocketClientAdapter(r.wsUrl, 100)
    const bystander = new Repo({ peerId: 'peer-bystander' as PeerId, network: [first] })
    cleanups.push(() => bystander.shutdown())
    const mine = bystander.create<Counter>({ n: 0 })
    const writer = client(r.wsUrl)
    const secret = writer.repo.create<Counter>({ n: 42 })
    const probe = client(r.wsUrl)
    await probe.findEventually<Counter>(secret.url) // the relay has it
    await probe.findEventually<Counter>(mine.url)

    // The bystander reconnects: the relay restarts the sync of what it asked for, and only that.
    bystander.networkSubsystem.removeNetworkAdapter(first)
    bystander.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(r.wsUrl, 100))
    mine.change((d) => void (d.n = 1))
    const seen = await probe.findEventually<Counter>(mine.url)
    await waitFor(() => seen.doc().n === 1, { message: 'the bystander is connected again' })
    secret.change((d) => void (d.n = 43))
    await waitFor(() => probe.repo.handles[secret.documentId]?.doc()?.n === 43)
    expect(bystander.handles[secret.documentId]).toBeUndefined()
  })

  it('sends a reconnecting client the changes its previous connection lost', async () => {
    const r = await relay()
    const writer = client(r.wsUrl)
    const handle = writer.repo.create<Counter>({ n: 1 })
    const phone = new HandSync('peer-flaky-phone', handle.documentId)
    await phone.connect(r.wsUrl)
    await phone.syncUntil(() => phone.doc.n === 1, 'the phone gets the document')

    // A change reaches the relay, which sends it to the phone; the frame is lost with the socket.
    handle.change((d) => void (d.n = 2))
    const [change] = A.getHeads(handle.doc())
    await waitFor(
      () =>
        phone.newFrames().some((f) => {
          const m = A.decodeSyncMessage(f.data)
          return m.heads.includes(change as string) && m.changes.length > 0
        }),
      { message: 'the relay sends the change' },
    )
    phone.socket.close()

    // The phone comes back with the same peer ID, its sync state reset as automerge-repo does.
    phone.state = A.decodeSyncState(A.encodeSyncState(phone.state))
    await phone.connect(r.wsUrl)
    await phone.syncUntil(() => phone.doc.n === 2, 'the phone gets the change it lost')
    expect(phone.doc.n).toBe(2)
  })

  it('passes on changes that cancel out (a post written and deleted offline, synced in one go)', async () => {
    const r = await relay()
    const reader = client(r.wsUrl)
    const first = new WebSocketClientAdapter(r.wsUrl, 100)
    const writer = new Repo({ peerId: 'peer-writer' as PeerId, network: [first] })
    cleanups.push(() => writer.shutdown())
    const handle = writer.create<Counter>({ n: 1, posts: {} })
    const seen = await reader.findEventually<Counter>(handle.url)

    // Offline: a post, then its deletion.
    writer.networkSubsystem.removeNetworkAdapter(first)
    handle.change((d) => void (d.posts!.p1 = 'soupe ce soir'))
    handle.change((d) => void delete d.posts!.p1)
    writer.networkSubsystem.addNetworkAdapter(new WebSocketClientAdapter(r.wsUrl, 100))

    const heads = (doc: A.Doc<Counter>) => A.getHeads(doc).join()
    await waitFor(() => heads(seen.doc()) === heads(handle.doc()), { message: 'the reader has every change, even those that cancel out' })
  })
})
