import { describe, expect, it } from 'vitest'
import { busyReason, retryAfterSeconds } from './protocol.ts'

describe('the busy close reason', () => {
  it('says when to come back, and reads back', () => {
    expect(busyReason(30)).toBe('busy, retry in 30 s')
    expect(retryAfterSeconds(busyReason(30))).toBe(30)
    expect(retryAfterSeconds(busyReason(2.4))).toBe(2)
  })

  it('falls back to 30 s for a reason it cannot read, and keeps a silly delay within 1 s to 10 min', () => {
    expect(retryAfterSeconds('')).toBe(30)
    expect(retryAfterSeconds('busy')).toBe(30)
    expect(retryAfterSeconds('busy, retry in 0 s')).toBe(1)
    expect(retryAfterSeconds('busy, retry in 999999 s')).toBe(600)
  })
})
