/**
 * What patches/@automerge+automerge-repo+2.5.6.patch changes in the throttle that paces a document's
 * sync messages (DocSynchronizer) and sync-state saves: a call made after a quiet period runs at the
 * end of this turn of the event loop (setImmediate) instead of on the next timer turn, and calls
 * within the window still make one run. bench/README.md has the latency it saves. And heads encodings
 * are remembered (bs58check, two SHA-256 per head, was 4 % of a loaded relay's busy time): the test
 * checks the memo gives what the encoding gives. sync-server/memory-patches.test.ts has the rest.
 */
import { asyncThrottle } from '@automerge/automerge-repo/helpers/throttle.js'
import { describe, expect, it } from 'vitest'

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
