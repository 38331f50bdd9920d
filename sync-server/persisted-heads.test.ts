import { next as A } from '@automerge/automerge'
import { NetworkAdapter, Repo, type DocumentId, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { PERSISTED_HEADS_FEATURE, PERSISTED_HEADS_TYPE } from '../shared/persisted-heads.ts'
import { waitFor } from '../tests/helpers/wait-for.ts'
import { createMemoryLogger } from './log.ts'
import { reportPersistedHeads } from './persisted-heads.ts'
import { MemoryStorage } from './storage/memory-storage.ts'

/** The relay's network as the repo sees it: the test plays the clients. */
class TestNetwork extends NetworkAdapter {
  readonly sent: Message[] = []
  isReady = () => true
  whenReady = () => Promise.resolve()
  connect(peerId: PeerId, meta?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = meta
  }
  disconnect(): void {}
  send(message: Message): void {
    this.sent.push(message)
  }
  join(peerId: string, features: string[] | undefined): void {
    this.emit('peer-candidate', { peerId: peerId as PeerId, peerMetadata: { isEphemeral: true, ...(features ? { placetteFeatures: features } : {}) } as PeerMetadata })
  }
  /** A client speaks of a document: the sync message of a device that has nothing yet. */
  speak(peerId: string, documentId: DocumentId): void {
    const [, data] = A.generateSyncMessage(A.init(), A.initSyncState())
    this.emit('message', { type: 'request', senderId: peerId as PeerId, targetId: this.peerId!, documentId, data: data! } as Message)
  }
  persistedFor(peerId: string): Array<{ documentId: string; heads: string[] }> {
    return this.sent
      .filter((m) => (m.type as string) === PERSISTED_HEADS_TYPE && m.targetId === peerId)
      .map((m) => m as unknown as { documentId: string; heads: string[] })
  }
}

/** Memory storage whose writes wait while the gate is shut, as a slow disk would. */
class GatedStorage extends MemoryStorage {
  #open = true
  #waiting: Array<() => void> = []
  saving = 0
  shut(): void {
    this.#open = false
  }
  release(): void {
    this.#open = true
    for (const go of this.#waiting.splice(0)) go()
  }
  override async save(key: string[], data: Uint8Array): Promise<void> {
    this.saving++
    if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    await super.save(key, data)
    this.saving--
  }
}

const repos: Repo[] = []
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.shutdown()
})

function relayRepo(storage: GatedStorage) {
  const network = new TestNetwork()
  const repo = new Repo({ peerId: 'relay-test' as PeerId, storage, network: [network], sharePolicy: async () => false })
  repos.push(repo)
  reportPersistedHeads(repo, network, createMemoryLogger().log)
  return { repo, network }
}

/** Everything of `documentId` in `storage`, loaded as automerge-repo loads it. */
async function onDisk(storage: MemoryStorage, documentId: string): Promise<A.Doc<unknown>> {
  const chunks = [...(await storage.loadRange([documentId, 'snapshot'])), ...(await storage.loadRange([documentId, 'incremental']))]
  let doc = A.init<unknown>()
  for (const c of chunks) doc = A.loadIncremental(doc, c.data!)
  return doc
}

describe('reportPersistedHeads', () => {
  it('tells a Placette client the heads of a document only once they are written, and never a stock client', async () => {
    const storage = new GatedStorage()
    const { repo, network } = relayRepo(storage)
    await waitFor(() => network.peerId)
    network.join('device-a', [PERSISTED_HEADS_FEATURE])
    network.join('stock-b', undefined)
    storage.shut()
    const handle = repo.create<{ n: number }>({ n: 1 })
    network.speak('device-a', handle.documentId)
    network.speak('stock-b', handle.documentId)
    await waitFor(() => storage.saving > 0, { message: 'the write starts' })
    expect(network.persistedFor('device-a')).toEqual([])

    storage.release()
    const heads = A.getHeads(handle.doc())
    await waitFor(() => network.persistedFor('device-a').length === 1, { message: 'device-a is told' })
    expect(network.persistedFor('device-a')[0]).toEqual({ type: PERSISTED_HEADS_TYPE, senderId: 'relay-test', targetId: 'device-a', documentId: handle.documentId, heads })
    expect(A.hasHeads(await onDisk(storage, handle.documentId), heads)).toBe(true)

    // A later change: held back while its write waits, told once written.
    storage.shut()
    handle.change((d) => (d.n = 2))
    await waitFor(() => storage.saving > 0, { message: 'the second write starts' })
    expect(network.persistedFor('device-a')).toHaveLength(1)
    storage.release()
    const later = A.getHeads(handle.doc())
    await waitFor(() => network.persistedFor('device-a').some((m) => m.heads.join() === later.join()), { message: 'the new heads are told' })
    expect(network.persistedFor('stock-b')).toEqual([])
  })

  it('tells a client that speaks of a document already on disk at once, and the heads loaded after a restart', async () => {
    const storage = new GatedStorage()
    const first = relayRepo(storage)
    const handle = first.repo.create<{ n: number }>({ n: 1 })
    await first.repo.flush()
    first.network.join('device-a', [PERSISTED_HEADS_FEATURE])
    first.network.speak('device-a', handle.documentId)
    const heads = A.getHeads(handle.doc())
    await waitFor(() => first.network.persistedFor('device-a').length === 1)
    // Speaking again with nothing new written says nothing new.
    first.network.speak('device-a', handle.documentId)
    expect(first.network.persistedFor('device-a')).toHaveLength(1)

    const second = relayRepo(storage)
    await waitFor(() => second.network.peerId)
    second.network.join('device-a', [PERSISTED_HEADS_FEATURE])
    second.network.speak('device-a', handle.documentId)
    await waitFor(() => second.network.persistedFor('device-a').length === 1, { message: 'told the loaded heads' })
    expect(second.network.persistedFor('device-a')[0]!.heads).toEqual(heads)
  })

  it('forgets a client when it leaves, and tells it again from scratch when it comes back', async () => {
    const storage = new GatedStorage()
    const { repo, network } = relayRepo(storage)
    await waitFor(() => network.peerId)
    const handle = repo.create<{ n: number }>({ n: 1 })
    await repo.flush()
    network.join('device-a', [PERSISTED_HEADS_FEATURE])
    network.speak('device-a', handle.documentId)
    await waitFor(() => network.persistedFor('device-a').length === 1)
    network.emit('peer-disconnected', { peerId: 'device-a' as PeerId })
    handle.change((d) => (d.n = 2))
    await repo.flush()
    expect(network.persistedFor('device-a')).toHaveLength(1)
    network.join('device-a', [PERSISTED_HEADS_FEATURE])
    network.speak('device-a', handle.documentId)
    await waitFor(() => network.persistedFor('device-a').length === 2)
    expect(network.persistedFor('device-a')[1]!.heads).toEqual(A.getHeads(handle.doc()))
  })
})
