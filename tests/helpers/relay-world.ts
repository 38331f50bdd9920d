/**
 * A relay-like automerge-repo and its clients over in-memory links, for unit tests of the relay's sync
 * path (sync-server/receive-fast-path.test.ts, sync-server/sync-memo.test.ts).
 */
import { NetworkAdapter, Repo, type DocumentId, type Message, type PeerId, type PeerMetadata } from '@automerge/automerge-repo'
import { receiveSyncFromSyncingPeersDirectly } from '../../sync-server/receive-fast-path.ts'
import { waitFor } from './wait-for.ts'

/** One end of an in-memory link: messages cross on a microtask, like a socket that never drops. */
export class End extends NetworkAdapter {
  other!: End
  #ready = false
  isReady = () => this.#ready
  whenReady = async () => undefined
  connect(peerId: PeerId, peerMetadata?: PeerMetadata): void {
    this.peerId = peerId
    this.peerMetadata = peerMetadata ?? {}
    this.#ready = true
    this.#meet()
    this.other.#meet()
  }
  #meet(): void {
    if (!this.#ready || !this.other.#ready) return
    this.emit('peer-candidate', { peerId: this.other.peerId as PeerId, peerMetadata: this.other.peerMetadata ?? {} })
  }
  send(message: Message): void {
    queueMicrotask(() => this.other.emit('message', message))
  }
  disconnect(): void {
    this.#ready = false
  }
}

export function link(): [End, End] {
  const a = new End()
  const b = new End()
  a.other = b
  b.other = a
  return [a, b]
}

/** A relay-like repo (never announces to clients) with `n` clients, all holding one document. */
export async function world(n: number, fast: boolean, onLibraryPath: (m: Message) => void = () => undefined, mayRead: (peer: PeerId) => boolean = () => true) {
  let policyCalls = 0
  const relayEnds: End[] = []
  const clients: Repo[] = []
  for (let i = 0; i < n; i++) {
    const [r, c] = link()
    relayEnds.push(r)
    clients.push(new Repo({ peerId: `client-${i}` as PeerId, network: [c], sharePolicy: async () => true }))
  }
  const relay = new Repo({
    peerId: 'relay' as PeerId,
    network: relayEnds,
    shareConfig: {
      announce: async () => (policyCalls++, false),
      access: async (peer) => mayRead(peer),
    },
  })
  const library = relay.synchronizer.receiveMessage.bind(relay.synchronizer)
  relay.synchronizer.receiveMessage = (m) => (onLibraryPath(m as Message), library(m))
  if (fast) receiveSyncFromSyncingPeersDirectly(relay)
  const writer = clients[0] as Repo
  const handle = writer.create<{ n: number }>({ n: 0 })
  await waitFor(() => relay.handles[handle.documentId]?.isReady() === true)
  const readers = await Promise.all(clients.slice(1).filter((c) => mayRead(c.peerId)).map((c) => c.find<{ n: number }>(handle.url)))
  await waitFor(() => readers.every((r) => r.doc()?.n === 0))
  return { relay, relayEnds, clients, writer: handle, writerRepo: writer, readers, policyCalls: () => policyCalls, documentId: handle.documentId as DocumentId }
}
