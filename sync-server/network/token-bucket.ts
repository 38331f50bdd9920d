/**
 * A per-peer budget of inbound bytes (DESIGN §5: cap each peer's rate). A peer over budget is not
 * refused: the relay stops reading its socket for as long as the debt takes to repay, so TCP pushes
 * back on the sender and an honest client that uploads a lot just goes slower.
 */
export interface RateLimit {
  /** Sustained rate. */
  bytesPerSecond: number
  /** What a peer may send at once after being quiet (an initial sync comes in a burst). */
  burstBytes: number
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = { bytesPerSecond: 2 * 1024 * 1024, burstBytes: 32 * 1024 * 1024 }

/** Every frame costs at least this much, so a flood of tiny frames is limited too. */
export const MIN_FRAME_COST = 512

export class TokenBucket {
  #tokens: number
  #last: number
  readonly #limit: RateLimit
  readonly #now: () => number

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    this.#limit = limit
    this.#now = now
    this.#tokens = limit.burstBytes
    this.#last = now()
  }

  /** Spends the cost of one frame; returns how many ms to stop reading (0 if within budget). */
  take(frameBytes: number): number {
    const now = this.#now()
    const refill = ((now - this.#last) / 1000) * this.#limit.bytesPerSecond
    this.#tokens = Math.min(this.#limit.burstBytes, this.#tokens + refill) - Math.max(frameBytes, MIN_FRAME_COST)
    this.#last = now
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#limit.bytesPerSecond) * 1000)
  }
}
