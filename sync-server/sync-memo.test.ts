/**
 * What patches/@automerge+automerge-repo+2.5.6.patch adds to DocSynchronizer: a relay remembers, per
 * document and while its heads stay the same, the sync message it generated for a sync state and the
 * sync state an answer without changes led to. Most members of a document are in the same state after
 * a change, so the relay computes each once instead of once per member (bench/README.md: relay CPU at
 * 200 clients 40 → 31 %).
 */
import { next as A } from '@automerge/automerge'
import type { DocHandle } from '@automerge/automerge-repo'
import { syncMemoKey } from '@automerge/automerge-repo/helpers/syncMemoKey.js'
import { describe, expect, it } from 'vitest'
import { world } from '../tests/helpers/relay-world.ts'
import { waitFor } from '../tests/helpers/wait-for.ts'

/** Counts the Automerge sync calls made on the relay's copy of a document. */
function countSyncCalls(handle: DocHandle<unknown>) {
  const backend = A.getBackend(handle.doc() as A.Doc<unknown>) as unknown as Record<'generateSyncMessage' | 'receiveSyncMessage', (...args: unknown[]) => unknown>
  const calls = { generate: 0, receive: 0 }
  for (const [name, count] of [['generateSyncMessage', 'generate'], ['receiveSyncMessage', 'receive']] as const) {
    const original = backend[name].bind(backend)
    backend[name] = (...args) => (calls[count]++, original(...args))
  }
  return calls
}

describe('the relay’s sync memo', () => {
  it('passes every change to every member, computing most members’ messages and answers once', async () => {
    const n = 8
    const { relay, writer, readers, documentId } = await world(n, true)
    const calls = countSyncCalls(relay.handles[documentId] as DocHandle<unknown>)
    for (let k = 1; k <= 5; k++) {
      writer.change((d) => void (d.n = k))
      await waitFor(() => readers.every((r) => r.doc()?.n === k))
    }
    // Without the memo, each change costs a message to each of the n members and an answer from each
    // of the n − 1 readers, with a generate after each answer: at least 5 × (2n − 1) = 75 generates
    // and 5 × n = 40 receives (measured: 80 and 40 without the memo, 20 and 10 with it).
    expect(calls.generate).toBeLessThan(5 * n)
    expect(calls.receive).toBeLessThan(5 * 4)
    // And the relay's copy is the writers' document, usable for a change of its own.
    expect(A.getHeads(relay.handles[documentId]?.doc() as A.Doc<unknown>)).toEqual(A.getHeads(writer.doc() as A.Doc<unknown>))
  })

  it('keys equal states alike and any difference apart, bytes included', () => {
    const state = A.initSyncState()
    expect(syncMemoKey(state)).toBe(syncMemoKey(A.initSyncState()))
    expect(syncMemoKey({ ...state, inFlight: true })).not.toBe(syncMemoKey(state))
    expect(syncMemoKey({ ...state, sharedHeads: ['ab'] })).not.toBe(syncMemoKey({ ...state, lastSentHeads: ['ab'] }))
    const withBloom = (bloom: number[]) => ({ ...state, theirHave: [{ lastSync: [], bloom: new Uint8Array(bloom) }] })
    expect(syncMemoKey(withBloom([1, 2]))).toBe(syncMemoKey(withBloom([1, 2])))
    expect(syncMemoKey(withBloom([1, 2]))).not.toBe(syncMemoKey(withBloom([1, 2, 0])))
    // A message's bytes cannot pass for the end of the state's.
    expect(syncMemoKey(withBloom([1]), new Uint8Array([2]))).not.toBe(syncMemoKey(withBloom([1, 2]), new Uint8Array([])))
    // Too large to be worth a key: no memo.
    expect(syncMemoKey(state, new Uint8Array(5_000))).toBeUndefined()
  })
})
