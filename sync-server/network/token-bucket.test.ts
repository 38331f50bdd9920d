import { describe, expect, it } from 'vitest'
import { MIN_FRAME_COST, TokenBucket } from './token-bucket.ts'

describe('TokenBucket', () => {
  it('lets a burst through, then asks to pause for as long as the debt takes to repay', () => {
    let now = 0
    const bucket = new TokenBucket({ bytesPerSecond: 1000, burstBytes: 5000 }, () => now)
    expect(bucket.take(5000)).toBe(0)
    expect(bucket.take(1000)).toBe(1000)
    now += 1000
    expect(bucket.take(0 + MIN_FRAME_COST)).toBe(Math.ceil((MIN_FRAME_COST / 1000) * 1000))
  })

  it('refills with time, up to the burst size', () => {
    let now = 0
    const bucket = new TokenBucket({ bytesPerSecond: 1000, burstBytes: 2000 }, () => now)
    expect(bucket.take(2000)).toBe(0)
    now += 60_000
    expect(bucket.take(2000)).toBe(0)
    expect(bucket.take(1)).toBeGreaterThan(0)
  })

  it('charges tiny frames a minimum cost', () => {
    const bucket = new TokenBucket({ bytesPerSecond: 1, burstBytes: MIN_FRAME_COST * 3 }, () => 0)
    expect([bucket.take(1), bucket.take(1), bucket.take(1), bucket.take(1)]).toEqual([0, 0, 0, MIN_FRAME_COST * 1000])
  })
})
