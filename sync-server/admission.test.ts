import { describe, expect, it } from 'vitest'
import { Admission, WINDOW } from './admission.ts'

/** An admission fed with the utilizations a test chooses, one per sample. */
function fed(policy = {}) {
  let next = 0
  const clock = { now: 0 }
  const admission = new Admission({ busyAbove: 0.9, freeBelow: 0.75, ...policy }, () => next, () => clock.now)
  const feed = (...values: number[]) => {
    for (const v of values) {
      next = v
      admission.sample()
    }
  }
  return { admission, feed, clock }
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
    admission.onChange((busy) => changes.push(busy))
    feed(...Array<number>(WINDOW).fill(0.95))
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
  })
})
