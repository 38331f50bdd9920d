/**
 * Sign-in challenges: random, stamped with their time and an HMAC of the relay's secret, so the relay
 * keeps no state for a challenge it handed out, and each one works once, for two minutes.
 *
 * A **ticket** is a challenge the relay hands a member at the end of a sign-in, in its answer to the
 * join (`placetteTicket`), for that member's next connection: bound to the member (its MAC covers the
 * member ID), once, for an hour. A device that comes back within the hour signs the ticket instead of
 * asking `GET /auth/challenge` first: one HTTP request (~0.9 KB from a browser) and its round trips
 * fewer on every reconnect (bench/README.md). The secret is drawn at start, so a restart voids every
 * challenge and ticket; the app then asks for a fresh challenge at once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { TICKET_TTL_MS } from '../../shared/relay-auth.ts'

export const CHALLENGE_TTL_MS = 120_000
/** The first part of a ticket, which a challenge's time (base 36 digits) never is. */
const TICKET = 't'

export class Challenges {
  readonly #secret = randomBytes(32)
  /** Challenges and tickets already used, until they expire anyway. */
  readonly #used = new Map<string, number>()
  readonly #now: () => number
  #pruned = 0

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  issue(): string {
    const body = `${this.#now().toString(36)}.${randomBytes(16).toString('base64url')}`
    return `${body}.${this.#mac(body)}`
  }

  /** A challenge only `member` may sign, for its next connection within {@link TICKET_TTL_MS}. */
  issueTicket(member: string): string {
    const body = `${this.#now().toString(36)}.${randomBytes(16).toString('base64url')}`
    return `${TICKET}.${body}.${this.#mac(`${TICKET}.${member}.${body}`)}`
  }

  /**
   * True once for a genuine, fresh challenge, or a ticket given to `member`; false for a forged,
   * stale or reused one, or another member's ticket.
   */
  consume(challenge: string, member?: string): boolean {
    const now = this.#now()
    // Forget what has expired anyway, at most once a second (tickets keep entries for an hour).
    if (now - this.#pruned >= 1000) {
      this.#pruned = now
      for (const [c, expires] of this.#used) if (expires < now) this.#used.delete(c)
    }
    const parts = challenge.split('.')
    const ticket = parts[0] === TICKET
    if (ticket && member === undefined) return false
    const [time, nonce, mac, extra] = ticket ? parts.slice(1) : parts
    if (!time || !nonce || !mac || extra !== undefined) return false
    const expected = Buffer.from(this.#mac(ticket ? `${TICKET}.${member}.${time}.${nonce}` : `${time}.${nonce}`))
    const given = Buffer.from(mac)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false
    const issued = parseInt(time, 36)
    const ttl = ticket ? TICKET_TTL_MS : CHALLENGE_TTL_MS
    if (!(issued <= now + 5_000 && now - issued <= ttl)) return false
    if (this.#used.has(challenge)) return false
    this.#used.set(challenge, issued + ttl)
    return true
  }

  /** Used challenges and tickets still remembered (they are forgotten once expired). */
  get remembered(): number {
    return this.#used.size
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url')
  }
}
