import { describe, expect, it } from 'vitest'
import { Admission, heapInUse, WINDOW, type AdmissionChange, type AdmissionPolicy } from './admission.ts'

/** An admission fed with the utilizations (and heap in use) a test chooses, one per sample. */
function fed(policy: Partial<AdmissionPolicy> = {}) {
  let next = 0
  let heap = 0.1
  const clock = { now: 0 }
  const admission = new Admission({ busyAbove: 0.9, freeBelow: 0.75, ...policy }, () => next, () => clock.now, () => heap)
  const feed = (...values: number[]) => {
    for (const v of values) {
      next = v
      admission.sample()
    }
  }
  /** One sample per value of the heap in use, the thread idle. */
  const feedHeap = (...values: number[]) => {
    for (const v of values) {
      heap = v
      next = 0.1
      admission.sample()
    }
  }
  return { admission, feed, feedHeap, clock }
}

describe('Admission', () => {
  it('takes every socket while the relay has idle time', () => {
    const { admission, feed } = fed()
    feed(0.5, 0.6, 0.7, 0.8, 0.85)
    expect(admission.busy).toBe(false)
    expect(admission.admit()).toBe(0)
    expect(admission.refused).toBe(0)
  })

  it('does not close the door on a spike, nor before a full window', () => {
    const { admission, feed } = fed()
    feed(1, 1, 1, 1) // the first seconds after start
    expect(admission.busy).toBe(false)
    feed(0.3) // mean 0.86 over the window
    expect(admission.busy).toBe(false)
    feed(1, 0.2, 0.3, 0.4, 1)
    expect(admission.busy).toBe(false)
  })

  it('refuses new sockets while saturated, and takes them again only once well below (no flapping)', () => {
    const { admission, feed, clock } = fed({ retryAfterSeconds: 30 })
    const changes: boolean[] = []
    admission.onChange(({ busy }) => changes.push(busy))
    feed(...Array<number>(WINDOW).fill(0.95))
    expect(admission.cause).toBe('cpu')
    expect(admission.busy).toBe(true)
    expect(admission.admit()).toBe(30)
    expect(admission.admit()).toBe(30)
    expect(admission.refused).toBe(2)
    // Below the threshold that closed the door, above the one that opens it: still refusing.
    feed(...Array<number>(WINDOW).fill(0.8))
    expect(admission.busy).toBe(true)
    feed(...Array<number>(WINDOW).fill(0.6))
    expect(admission.busy).toBe(false)
    clock.now += 1000
    expect(admission.admit()).toBe(0)
    expect(changes).toEqual([true, false])
  })

  it('opens again a fixed margin under the threshold it was given', () => {
    let next = 0
    const admission = new Admission({ busyAbove: 0.9 }, () => next)
    const feed = (v: number) => {
      next = v
      for (let i = 0; i < WINDOW; i++) admission.sample()
    }
    feed(0.95)
    feed(0.8)
    expect(admission.busy).toBe(true)
    feed(0.7)
    expect(admission.busy).toBe(false)
  })

  it('reports the mean over the last window', () => {
    const { admission, feed } = fed()
    expect(admission.utilization).toBe(0)
    feed(0, 0, 0, 0, 0, 0.5, 0.5)
    expect(admission.utilization).toBeCloseTo(0.2)
  })

  it('lets a herd of newcomers in over seconds, not all at once', () => {
    const { admission, clock } = fed({ admitsPerSecond: 5, rateRetryAfterSeconds: 7 })
    const verdicts = Array.from({ length: 8 }, () => admission.admit())
    expect(verdicts).toEqual([0, 0, 0, 0, 0, 7, 7, 7])
    expect(admission.refused).toBe(3)
    clock.now += 400 // two more have earned their place
    expect([admission.admit(), admission.admit(), admission.admit()]).toEqual([0, 0, 7])
    clock.now += 60_000 // a quiet minute refills one second's worth, no more
    expect(Array.from({ length: 6 }, () => admission.admit()).filter((w) => w === 0)).toHaveLength(5)
  })

  it('takes newcomers more slowly as the relay fills, so that their load shows before many more come', () => {
    const { admission, feed, clock } = fed({ busyAbove: 0.8, freeBelow: 0.65, admitsPerSecond: 20, minAdmitsPerSecond: 1 })
    const takenInASecond = () => {
      clock.now += 10_000
      admission.admit() // refills a second's worth at the current rate
      let taken = 1
      while (admission.admit() === 0) taken++
      return taken
    }
    expect(takenInASecond()).toBe(20)
    feed(...Array<number>(WINDOW).fill(0.4)) // half full
    expect(takenInASecond()).toBe(10)
    feed(...Array<number>(WINDOW).fill(0.78))
    expect(admission.busy).toBe(false)
    expect(takenInASecond()).toBe(1)
  })

  it('paces newcomers at the full rate until a full window says how loaded the relay is', () => {
    const { admission, feed, clock } = fed({ busyAbove: 0.8, freeBelow: 0.65, admitsPerSecond: 4, minAdmitsPerSecond: 1, rateRetryAfterSeconds: 7 })
    feed(1) // the first second after start: loading, a first device's sync
    expect([admission.admit(), admission.admit(), admission.admit()]).toEqual([0, 0, 0])
    clock.now += 500
    expect(admission.admit()).toBe(0)
    feed(...Array<number>(WINDOW - 1).fill(0.7)) // now a full window (mean 0.76), near the door
    clock.now += 10_000
    expect([admission.admit(), admission.admit()]).toEqual([0, 7])
  })

  it('refuses new sockets while the heap stays near its limit, judged on its floor over the window, and says why', () => {
    const { admission, feedHeap, clock } = fed({ heapBusyAbove: 0.75, retryAfterSeconds: 30 })
    const changes: AdmissionChange[] = []
    admission.onChange((change) => changes.push(change))
    // Garbage piles up between collections: peaks over the limit with a low floor are no reason.
    feedHeap(0.5, 0.9, 0.55, 0.95, 0.6, 0.92)
    expect(admission.busy).toBe(false)
    expect(admission.heapUse).toBeCloseTo(0.55)
    // What is alive stays high: the door shuts, while the thread is idle.
    feedHeap(0.8, 0.77, 0.9, 0.78, 0.8)
    expect(admission.busy).toBe(true)
    expect(admission.cause).toBe('memory')
    expect(admission.admit()).toBe(30)
    expect(changes).toEqual([{ busy: true, cause: 'memory', utilization: expect.closeTo(0.1) as number, heapUse: 0.77 }])
    // Under the threshold but above the one that opens it (0.65): still shut.
    feedHeap(0.7, 0.7, 0.7, 0.7, 0.7)
    expect(admission.busy).toBe(true)
    // Clients left and idle documents were evicted: open again.
    feedHeap(0.6, 0.6, 0.6, 0.6, 0.6)
    expect(admission.busy).toBe(false)
    expect(admission.cause).toBeUndefined()
    clock.now += 1000
    expect(admission.admit()).toBe(0)
    expect(changes.map((c) => c.busy)).toEqual([true, false])
  })

  it('never refuses on memory when told not to, nor at a high heap before a full window', () => {
    const off = fed({ heapBusyAbove: 0 })
    off.feedHeap(...Array<number>(WINDOW * 2).fill(0.99))
    expect(off.admission.busy).toBe(false)
    const on = fed({ heapBusyAbove: 0.75 })
    on.feedHeap(...Array<number>(WINDOW - 1).fill(0.99))
    expect(on.admission.busy).toBe(false)
  })

  it('with the thread’s door off, refuses only on memory and does not pace newcomers', () => {
    const { admission, feed, feedHeap } = fed({ busyAbove: Infinity, admitsPerSecond: 2 })
    feed(...Array<number>(WINDOW).fill(1))
    expect(admission.busy).toBe(false)
    expect(Array.from({ length: 10 }, () => admission.admit())).toEqual(Array<number>(10).fill(0))
    feedHeap(...Array<number>(WINDOW).fill(0.8))
    expect(admission.cause).toBe('memory')
  })

  it('measures this process by default', async () => {
    const admission = new Admission()
    admission.sample()
    const spin = performance.now() + 50
    while (performance.now() < spin) {
      // busy
    }
    admission.sample()
    expect(admission.utilization).toBeGreaterThan(0)
    expect(admission.utilization).toBeLessThanOrEqual(1)
    expect(admission.heapUse).toBeGreaterThan(0)
    expect(admission.heapUse).toBeLessThan(1)
    expect(heapInUse()).toBeGreaterThan(0)
  })
})
