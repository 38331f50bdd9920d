import type { Message, PeerId, Repo } from '@automerge/automerge-repo'
import { describe, expect, it } from 'vitest'
import { world, type End } from '../tests/helpers/relay-world.ts'
import { waitFor } from '../tests/helpers/wait-for.ts'

describe('receiveSyncFromSyncingPeersDirectly', () => {
  it('passes every change on to every member without asking the share policy about every peer for each message', async () => {
    const n = 12
    const { writer, readers, policyCalls } = await world(n, true)
    const before = policyCalls()
    for (let k = 1; k <= 5; k++) {
      writer.change((d) => void (d.n = k))
      await waitFor(() => readers.every((r) => r.doc()?.n === k))
    }
    // Each change is a message in and an acknowledgement from each reader: the library's own path
    // would ask the policy about all n peers for each of those messages (at least 5 × n × n = 720
    // calls). The fast path asks about the sender and the few peers that could be new to the document:
    // 143–154 here, depending on how the relay's loads interleave with the first messages.
    expect(policyCalls() - before).toBeLessThan(2 * n * n)
  })

  it('is what makes the difference: without it the library asks about every peer for each message', async () => {
    const n = 12
    const { writer, readers, policyCalls } = await world(n, false)
    const before = policyCalls()
    writer.change((d) => void (d.n = 1))
    await waitFor(() => readers.every((r) => r.doc()?.n === 1))
    expect(policyCalls() - before).toBeGreaterThanOrEqual(n * n)
  })

  it('still refuses a peer that lost access: such messages take the library path, which answers unavailable', async () => {
    const { relay, writer, writerRepo, readers } = await world(3, true)
    let allowed = true
    relay.shareConfig = { announce: async () => false, access: async () => allowed }
    allowed = false
    const refused = new Promise<void>((resolve) =>
      writerRepo.networkSubsystem.on('message', (m) => {
        if (m.type === 'doc-unavailable') resolve()
      }),
    )
    writer.change((d) => void (d.n = 42))
    await refused
    // The relay did not take the change in, so the other members never see it.
    expect(relay.handles[writer.documentId]?.doc()).toEqual({ n: 0 })
    expect(readers.every((r) => r.doc()?.n === 0)).toBe(true)
  })

  it("takes the library's path again for a peer's first message after it reconnects", async () => {
    const libraryMessages: Message[] = []
    const { relayEnds, writer, readers } = await world(3, true, (m) => libraryMessages.push(m))
    const reader = relayEnds[1] as End
    const readerId = reader.other.peerId as PeerId
    writer.change((d) => void (d.n = 1))
    await waitFor(() => readers.every((r) => r.doc()?.n === 1))
    // The socket goes and comes back (same peer ID, as a phone reconnecting).
    reader.emit('peer-disconnected', { peerId: readerId })
    libraryMessages.length = 0
    reader.emit('peer-candidate', { peerId: readerId, peerMetadata: {} })
    reader.other.emit('peer-disconnected', { peerId: reader.peerId as PeerId })
    reader.other.emit('peer-candidate', { peerId: reader.peerId as PeerId, peerMetadata: {} })
    writer.change((d) => void (d.n = 2))
    await waitFor(() => readers.every((r) => r.doc()?.n === 2))
    expect(libraryMessages.some((m) => m.senderId === readerId && m.type === 'sync')).toBe(true)
  })

  it('serves a peer that asked before it was allowed once the document changes, as the library does', async () => {
    let allowed = false
    const late = 'client-2' as PeerId
    const { clients, writer } = await world(3, true, undefined, (peer) => peer !== late || allowed)
    const asker = clients[2] as Repo
    // Refused: the relay answers unavailable, but remembers that it asked.
    await asker.find(writer.url).catch(() => undefined)
    allowed = true
    writer.change((d) => void (d.n = 1))
    await waitFor(() => asker.handles[writer.documentId]?.doc()?.n === 1, { message: 'the late peer gets the document' })
  })
})
