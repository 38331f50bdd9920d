/**
 * What patches/@automerge+automerge-repo+2.5.6.patch changes in the throttle that paces a document's
 * sync messages (DocSynchronizer) and sync-state saves: a call made after a quiet period runs at the
 * end of this turn of the event loop (setImmediate) instead of on the next timer turn, and calls
 * within the window still make one run. bench/README.md has the latency it saves. And heads encodings
 * are remembered (bs58check, two SHA-256 per head, was 4 % of a loaded relay's busy time): the test
 * checks the memo gives what the encoding gives. And a sync message Automerge cannot generate for a
 * peer starts that peer over instead of leaving the document stuck (see the last test).
 * sync-server/memory-patches.test.ts has the rest.
 */
import { next as A } from '@automerge/automerge'
import { NetworkAdapter, Repo, type Message, type PeerId } from '@automerge/automerge-repo'
import { asyncThrottle } from '@automerge/automerge-repo/helpers/throttle.js'
import { describe, expect, it, vi } from 'vitest'

describe('automerge-repo’s sync throttle, as patched', () => {
  it('runs a call made after a quiet period before any timer fires', async () => {
    const order: string[] = []
    const throttled = asyncThrottle(async () => void order.push('run'), 5)
    await new Promise((resolve) => setTimeout(resolve, 10))
    const timer = new Promise<void>((resolve) => setTimeout(() => resolve(void order.push('timer')), 0))
    await Promise.all([throttled(), timer])
    // Stock 2.5.6 schedules the run with setTimeout(…, negative), after the timer set before it.
    expect(order).toEqual(['run', 'timer'])
  })

  it('still makes one run of calls made in the same turn', async () => {
    let runs = 0
    const throttled = asyncThrottle(async () => void runs++, 5)
    await new Promise((resolve) => setTimeout(resolve, 10))
    const calls = [throttled(), throttled(), throttled()]
    await Promise.allSettled([calls[2]])
    expect(runs).toBe(1)
  })
})

describe('automerge-repo’s heads encoding, as patched (encodings remembered)', () => {
  it('encodes every head as bs58check of its bytes, past the size of what it remembers and again', async () => {
    const { encodeHeads, decodeHeads } = await import('@automerge/automerge-repo')
    const heads = Array.from({ length: 5_000 }, (_, i) => i.toString(16).padStart(64, '0'))
    for (const round of [1, 2]) {
      const encoded = encodeHeads(heads)
      expect(new Set(encoded).size, `round ${round}`).toBe(heads.length)
      expect(decodeHeads(encoded)).toEqual(heads)
    }
  })
})

/** A network the test speaks for: it introduces peers, delivers their messages and keeps what the repo sends. */
class ScriptedNetwork extends NetworkAdapter {
  readonly sent: Message[] = []
  isReady = () => true
  whenReady = () => Promise.resolve()
  connect(peerId: PeerId): void {
    this.peerId = peerId
  }
  disconnect(): void {}
  send(message: Message): void {
    this.sent.push(message)
  }
  join(peerId: string): void {
    this.emit('peer-candidate', { peerId: peerId as PeerId, peerMetadata: {} })
  }
  deliver(senderId: string, documentId: string, data: Uint8Array): void {
    this.emit('message', { type: 'sync', senderId: senderId as PeerId, targetId: this.peerId!, documentId, data } as Message)
  }
}

describe('automerge-repo’s sync with a peer Automerge cannot answer, as patched', () => {
  it('starts that peer over and keeps taking and sending the other peers’ changes', async () => {
    const network = new ScriptedNetwork()
    const repo = new Repo({ network: [network], peerId: 'relay' as PeerId })
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
    try {
      const handle = repo.create<{ n: number }>({ n: 0 })
      network.join('good')
      network.join('bad')
      // A Bloom filter with entries and no bits: Automerge takes it, then panics generating the answer.
      // (The relay and the apps refuse it at the door, shared/sync-payload.ts; this is what is left if
      // another such message gets through.)
      const poisoned = A.encodeSyncMessage({ heads: [], need: [], have: [{ lastSync: [], bloom: Uint8Array.from([1, 0, 7]) }], changes: [] })
      network.deliver('bad', handle.documentId, poisoned)
      await vi.waitFor(() => expect(log).toHaveBeenCalledWith(expect.stringContaining('could not generate a sync message'), expect.anything()))

      // Unpatched, every later message about the document failed: "Attempting to change an outdated
      // document". The good peer syncs a change of its own, then receives one made here.
      let good = A.change(A.load<{ n: number }>(A.save(handle.doc())), (d) => void (d.n = 1))
      let state = A.initSyncState()
      /** One round of the good peer: take what the repo sent it, answer if it has something to say. */
      const step = () => {
        for (const out of network.sent.splice(0)) if (out.type === 'sync' && out.targetId === 'good') [good, state] = A.receiveSyncMessage(good, state, (out as { data: Uint8Array }).data)
        const [next, message] = A.generateSyncMessage(good, state)
        state = next
        if (message) network.deliver('good', handle.documentId, message)
      }
      await vi.waitFor(() => {
        step()
        expect(handle.doc().n).toBe(1)
      })
      handle.change((d) => void (d.n = 2))
      await vi.waitFor(() => {
        step()
        expect(good.n).toBe(2)
      })
    } finally {
      log.mockRestore()
      await repo.shutdown()
    }
  })
})
