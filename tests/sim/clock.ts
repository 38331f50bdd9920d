/**
 * Simulated time for the convergence simulation, installed over the globals of the worker thread that
 * runs it: `setTimeout`, `setInterval`, their `clear…` and `Date.now`. Nothing happens on its own;
 * `advance(ms)` runs every timer due in the next `ms`, in order, letting promise jobs settle after each
 * one, so a seed costs only the CPU of what it does. A heap keeps the next timer cheap to find (the
 * repos of a seed keep hundreds of long timeouts pending).
 */
type Callback = (...args: unknown[]) => void

interface Timer {
  id: number
  at: number
  seq: number
  fn: Callback
  args: unknown[]
  every?: number
}

/** What `setTimeout` returns here: enough of Node's Timeout for the code that calls it. */
class TimerHandle {
  constructor(readonly id: number) {}
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
  hasRef(): boolean {
    return true
  }
  refresh(): this {
    return this
  }
  [Symbol.toPrimitive](): number {
    return this.id
  }
}

const realSetImmediate = globalThis.setImmediate

/** Lets every pending promise job run (a macrotask turn drains the microtask queue first). */
const settle = () => new Promise<void>((resolve) => realSetImmediate(resolve))

export class SimClock {
  now = 1_750_000_000_000
  #heap: Timer[] = []
  #byId = new Map<number, Timer>()
  #nextId = 1
  #seq = 0
  /** Errors thrown by timer callbacks (a real event loop would report them as uncaught). */
  readonly errors: unknown[] = []

  /** Replaces the timer globals and `Date.now`; returns a function that puts them back. */
  install(): () => void {
    const g = globalThis as unknown as Record<string, unknown>
    const saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, setInterval: g.setInterval, clearInterval: g.clearInterval, now: Date.now }
    g.setTimeout = (fn: Callback, ms?: number, ...args: unknown[]) => this.#add(fn, ms, args, false)
    g.setInterval = (fn: Callback, ms?: number, ...args: unknown[]) => this.#add(fn, ms, args, true)
    g.clearTimeout = g.clearInterval = (handle: unknown) => this.#clear(handle)
    Date.now = () => this.now
    return () => {
      Object.assign(g, { setTimeout: saved.setTimeout, clearTimeout: saved.clearTimeout, setInterval: saved.setInterval, clearInterval: saved.clearInterval })
      Date.now = saved.now
    }
  }

  /** Forgets every pending timer (between seeds: what a finished seed left behind never runs). */
  reset(): void {
    this.#heap = []
    this.#byId.clear()
  }

  get pending(): number {
    return this.#byId.size
  }

  /** Lets `ms` pass: runs every timer due meanwhile, settling promise jobs after each. */
  async advance(ms: number): Promise<void> {
    const target = this.now + Math.max(0, ms)
    await settle()
    for (;;) {
      const next = this.#peek()
      if (!next || next.at > target) break
      this.#pop()
      this.now = Math.max(this.now, next.at)
      if (next.every !== undefined) this.#schedule({ ...next, at: this.now + next.every, seq: this.#seq++ })
      else this.#byId.delete(next.id)
      try {
        next.fn(...next.args)
      } catch (err) {
        this.errors.push(err)
      }
      await settle()
    }
    this.now = target
  }

  #add(fn: Callback, ms: number | undefined, args: unknown[], repeat: boolean): TimerHandle {
    const delay = Math.max(0, Number.isFinite(ms) ? (ms as number) : 0)
    const timer: Timer = { id: this.#nextId++, at: this.now + delay, seq: this.#seq++, fn, args, every: repeat ? Math.max(1, delay) : undefined }
    this.#schedule(timer)
    return new TimerHandle(timer.id)
  }

  #clear(handle: unknown): void {
    const id = typeof handle === 'number' ? handle : handle instanceof TimerHandle ? handle.id : undefined
    if (id === undefined) return
    this.#byId.delete(id)
  }

  /** A timer is live while its id maps to that very entry: cleared or re-armed entries are stale. */
  #schedule(timer: Timer): void {
    this.#byId.set(timer.id, timer)
    this.#push(timer)
  }

  // A binary min-heap on (at, seq); stale entries are dropped when they reach the top.
  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #peek(): Timer | undefined {
    while (this.#heap.length) {
      const top = this.#heap[0] as Timer
      if (this.#byId.get(top.id) === top) return top
      this.#pop()
    }
    return undefined
  }

  #push(timer: Timer): void {
    const h = this.#heap
    h.push(timer)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(h[i] as Timer, h[parent] as Timer)) break
      ;[h[i], h[parent]] = [h[parent] as Timer, h[i] as Timer]
      i = parent
    }
  }

  #pop(): void {
    const h = this.#heap
    const last = h.pop()
    if (!h.length || !last) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && this.#less(h[l] as Timer, h[m] as Timer)) m = l
      if (r < h.length && this.#less(h[r] as Timer, h[m] as Timer)) m = r
      if (m === i) break
      ;[h[i], h[m]] = [h[m] as Timer, h[i] as Timer]
      i = m
    }
  }
}
