/**
 * Sign-in challenges: random, stamped with their time and an HMAC of the relay's secret, so the relay
 * keeps no state for a challenge it handed out, and each one works once, for two minutes.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export const CHALLENGE_TTL_MS = 120_000

export class Challenges {
  readonly #secret = randomBytes(32)
  /** Challenges already used, until they expire anyway. */
  readonly #used = new Map<string, number>()
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  issue(): string {
    const body = `${this.#now().toString(36)}.${randomBytes(16).toString('base64url')}`
    return `${body}.${this.#mac(body)}`
  }

  /** True once for a genuine, fresh challenge; false for a forged, stale or reused one. */
  consume(challenge: string): boolean {
    const now = this.#now()
    for (const [c, expires] of this.#used) if (expires < now) this.#used.delete(c)
    const [time, nonce, mac, extra] = challenge.split('.')
    if (!time || !nonce || !mac || extra !== undefined) return false
    const expected = Buffer.from(this.#mac(`${time}.${nonce}`))
    const given = Buffer.from(mac)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
    const issued = parseInt(time, 36)
    if (!(issued <= now + 5_000 && now - issued <= CHALLENGE_TTL_MS)) return false
    if (this.#used.has(challenge)) return false
    this.#used.set(challenge, issued + CHALLENGE_TTL_MS)
    return true
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url')
  }
}
