import { next as A } from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { bloomProblem, MAX_BLOOM_PROBES, syncPayloadProblem } from './sync-payload.ts'

/** A real first sync message from a document with a change: it carries a `have` with a Bloom filter after a round. */
function messages() {
  let a = A.from<{ n: number }>({ n: 0 })
  a = A.change(a, (d) => void (d.n = 1))
  const b = A.from<{ x: number }>({ x: 1 })
  const [, first] = A.generateSyncMessage(b, A.initSyncState())
  return { a, first: A.decodeSyncMessage(first!) }
}

/** A sync message whose only `have` carries `bloom`. */
const withBloom = (bloom: number[]) => {
  const { first } = messages()
  return A.encodeSyncMessage({ ...first, have: [{ lastSync: [], bloom: Uint8Array.from(bloom) }] })
}

describe('a sync payload from outside', () => {
  it('is taken when Automerge wrote it, with or without a Bloom filter', () => {
    const { a, first } = messages()
    expect(syncPayloadProblem({ type: 'sync', data: A.encodeSyncMessage(first) })).toBeUndefined()
    // A later round carries a real filter (10 bits per entry, 7 probes).
    const [a2, state] = A.receiveSyncMessage(a, A.initSyncState(), A.encodeSyncMessage(first))
    const [, answer] = A.generateSyncMessage(a2, state)
    const decoded = A.decodeSyncMessage(answer!)
    expect(decoded.have.some((h) => h.bloom.length > 0)).toBe(true)
    expect(syncPayloadProblem({ type: 'sync', data: answer! })).toBeUndefined()
    expect(syncPayloadProblem({ type: 'request', data: answer! })).toBeUndefined()
  })

  it('is refused when it is not a sync message at all', () => {
    expect(syncPayloadProblem({ type: 'sync', data: Uint8Array.from([1, 2, 3, 4]) })).toBe('is not an Automerge sync message')
    expect(syncPayloadProblem({ type: 'sync', data: 'text' })).toBe('is not bytes')
  })

  it('is refused when its Bloom filter claims entries but has no bits: Automerge would panic answering it', () => {
    const poisoned = withBloom([1, 0, 7])
    // What the check prevents: Automerge takes the message, then panics on the next message it generates.
    const { a } = messages()
    const [a2, state] = A.receiveSyncMessage(a, A.initSyncState(), poisoned)
    expect(() => A.generateSyncMessage(a2, state)).toThrow(/divisor of zero/)
    expect(syncPayloadProblem({ type: 'sync', data: poisoned })).toBe('has a Bloom filter with entries but no bits')
  })

  it('is refused when its Bloom filter asks for an absurd number of probes', () => {
    // 0xffffffff probes, LEB128: Automerge would compute that many per hash it looks up.
    const greedy = withBloom([1, 10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0])
    expect(syncPayloadProblem({ type: 'sync', data: greedy })).toBe('has a Bloom filter asking for 4294967295 probes')
    expect(bloomProblem(Uint8Array.from([1, 10, MAX_BLOOM_PROBES, 0, 0]))).toBeUndefined()
  })

  it('leaves other messages alone, and an empty filter is fine', () => {
    expect(syncPayloadProblem({ type: 'ephemeral', data: Uint8Array.from([1]) })).toBeUndefined()
    expect(syncPayloadProblem({ type: 'sync' })).toBeUndefined()
    expect(bloomProblem(new Uint8Array())).toBeUndefined()
    expect(bloomProblem(Uint8Array.from([0, 0, 0]))).toBeUndefined()
    expect(bloomProblem(Uint8Array.from([0x80]))).toBe('has a Bloom filter whose header is not three numbers')
  })
})
