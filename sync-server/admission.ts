/**
 * Admission: whether the relay takes a new connection now. A relay past what its CPU serves keeps
 * taking joins, each one costing a first sync of every document the newcomer holds; the work it
 * cannot do piles up in memory (measured: 1,160 clients at the pace on one core, RSS
 * 1,422 MB and climbing, nothing delivered; BENCHMARKS.md). So while the relay is behind, a new
 * socket is told "busy, come back in N s" (close code 4503) and the devices already connected keep
 * being served. The app says so in words and retries by itself.
 *
 * Behind means the event loop had no idle time: its utilization (the share of time spent running
 * code rather than waiting for input) averaged over the last {@link WINDOW} seconds at or above
 * `busyAbove`. A spike (a large document loaded, a burst of joins) does not close the door; a
 * relay that stays saturated does, and it opens again only below `freeBelow` (hysteresis, so the door
 * does not flap with each second's figure).
 *
 * The utilization shows the cost of a newcomer seconds after it is let in (its first sync at once,
 * its changes over the next seconds), so the door also lets newcomers in at a bounded rate, slower as
 * the relay fills: `admitsPerSecond` when idle (and before the first full window), down to
 * `minAdmitsPerSecond` at `busyAbove`. Measured
 * without it (relay-load, door at 0.8): the devices turned away all came back within the same seconds
 * when the door opened, and the relay let in 738 clients at the pace, utilization 0.98, RSS
 * 620 MB and climbing; with a flat 20 a second until `freeBelow`, 633 clients, p95 642 ms; with this
 * rate, 621 clients, p95 130 ms, and with the door at 0.7, 514 clients, p95 86 ms, RSS 506 MB
 * (sync-server/README.md, "Saturated"). Those over the rate are told to come back sooner
 * (`rateRetryAfterSeconds`) than those refused for saturation.
 *
 * The door also closes on memory: while V8's heap stays filled to `heapBusyAbove` of the most it may
 * grow to (`heap_size_limit`: `--max-old-space-size`, which `npm start` sets, or V8's default for the
 * machine's memory), lowest figure over the window, and opens again below `heapFreeBelow`. V8 ends the
 * process when its heap reaches that limit, with everyone's unsaved state; turning newcomers away
 * first keeps serving the devices already there. The lowest of the window's samples, because the heap
 * in use climbs with garbage between collections and falls at each: its floor is what is alive.
 * Resident memory is not the signal: it does not go down after a peak (V8 and Automerge's WebAssembly
 * memory keep their pages for reuse), so a door on it could stay shut for good after one busy hour;
 * the heap in use does go down when clients leave and idle documents are evicted.
 */
import { performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** Seconds of event-loop utilization averaged for the decision. */
export const WINDOW = 5

export interface AdmissionPolicy {
  /** Mean event-loop utilization (0–1) over the window at which new sockets are refused. */
  busyAbove: number
  /** Mean utilization under which they are taken again; default {@link HYSTERESIS} below `busyAbove`. */
  freeBelow: number
  /** The delay a device refused for saturation is told to wait, in seconds (it adds its own jitter). */
  retryAfterSeconds: number
  /** Newcomers taken per second by an idle relay (a herd of reconnecting devices comes in over seconds). */
  admitsPerSecond: number
  /** ... falling in proportion to the room left, to this at `busyAbove`: each one's load shows before many more come. */
  minAdmitsPerSecond: number
  /** The delay a device refused for the rate is told to wait, in seconds. */
  rateRetryAfterSeconds: number
  /** Share (0–1) of V8's heap limit in use, lowest over the window, at which new sockets are refused; 0: never on memory. */
  heapBusyAbove: number
  /** Share under which they are taken again; default {@link HEAP_HYSTERESIS} below `heapBusyAbove`. */
  heapFreeBelow: number
}

/** How far under `busyAbove` the utilization must fall before the door opens again. */
export const HYSTERESIS = 0.15
/** How far under `heapBusyAbove` the heap in use must fall before the door opens again. */
export const HEAP_HYSTERESIS = 0.1

export const DEFAULT_ADMISSION: AdmissionPolicy = {
  busyAbove: 0.7,
  freeBelow: 0.7 - HYSTERESIS,
  retryAfterSeconds: 30,
  admitsPerSecond: 20,
  minAdmitsPerSecond: 1,
  rateRetryAfterSeconds: 10,
  heapBusyAbove: 0.75,
  heapFreeBelow: 0.75 - HEAP_HYSTERESIS,
}

/** Event-loop utilization since the previous call (0–1); tests pass their own. */
export type UtilizationSampler = () => number
/** Share (0–1) of V8's heap limit in use now; tests pass their own. */
export type HeapSampler = () => number

/** What is in use of the most V8's heap may grow to before V8 ends the process. */
export const heapInUse: HeapSampler = () => {
  const { used_heap_size, heap_size_limit } = getHeapStatistics()
  return used_heap_size / heap_size_limit
}

/** Why the door is shut: the relay's thread is saturated, or its heap is near its limit. */
export type BusyCause = 'cpu' | 'memory'

/** What an admission listener hears when the door shuts or opens. */
export interface AdmissionChange {
  busy: boolean
  /** Why it is shut (absent once open). */
  cause?: BusyCause
  utilization: number
  heapUse: number
}

export function eventLoopSampler(): UtilizationSampler {
  let last = performance.eventLoopUtilization()
  return () => {
    const now = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(now, last)
    last = now
    return delta.utilization
  }
}

export class Admission {
  readonly #policy: AdmissionPolicy
  readonly #sampler: UtilizationSampler
  readonly #heapSampler: HeapSampler
  readonly #samples: number[] = []
  readonly #heapSamples: number[] = []
  #timer: ReturnType<typeof setInterval> | undefined
  #cpuBusy = false
  #heapBusy = false
  readonly #listeners = new Set<(change: AdmissionChange) => void>()
  /** Sockets refused since start. */
  refused = 0

  /** Newcomers that may still come in now; refilled continuously at the current rate, at most a second's worth. */
  #tokens: number
  #lastRefill: number
  readonly #now: () => number

  constructor(
    policy: Partial<AdmissionPolicy> = {},
    sampler: UtilizationSampler = eventLoopSampler(),
    now: () => number = () => performance.now(),
    heapSampler: HeapSampler = heapInUse,
  ) {
    const busyAbove = policy.busyAbove ?? DEFAULT_ADMISSION.busyAbove
    const heapBusyAbove = policy.heapBusyAbove ?? DEFAULT_ADMISSION.heapBusyAbove
    this.#policy = { ...DEFAULT_ADMISSION, freeBelow: busyAbove - HYSTERESIS, heapFreeBelow: heapBusyAbove - HEAP_HYSTERESIS, ...policy }
    this.#sampler = sampler
    this.#heapSampler = heapSampler
    this.#now = now
    this.#tokens = this.#policy.admitsPerSecond
    this.#lastRefill = now()
  }

  /** Samples once a second until {@link stop}. */
  start(): void {
    clearInterval(this.#timer)
    this.#timer = setInterval(() => this.sample(), 1000)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Takes one second's measurement and decides (called by the timer; tests call it directly). */
  sample(): void {
    this.#samples.push(this.#sampler())
    this.#heapSamples.push(this.#heapSampler())
    if (this.#samples.length > WINDOW) this.#samples.shift()
    if (this.#heapSamples.length > WINDOW) this.#heapSamples.shift()
    const { busyAbove, freeBelow, heapBusyAbove, heapFreeBelow } = this.#policy
    const was = this.busy
    // Only a full window closes the door: the first seconds after start (loading, first joins) are not a trend.
    const full = this.#samples.length === WINDOW
    this.#cpuBusy = this.#cpuBusy ? this.utilization >= freeBelow : full && this.utilization >= busyAbove
    this.#heapBusy = heapBusyAbove > 0 && (this.#heapBusy ? this.heapUse >= heapFreeBelow : full && this.heapUse >= heapBusyAbove)
    if (this.busy === was) return
    const change: AdmissionChange = { busy: this.busy, ...(this.cause ? { cause: this.cause } : {}), utilization: this.utilization, heapUse: this.heapUse }
    for (const listener of this.#listeners) listener(change)
  }

  /** Calls `listener` each time the relay becomes saturated or has room again; returns its removal. */
  onChange(listener: (change: AdmissionChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Mean event-loop utilization over the last samples (0 before the first). */
  get utilization(): number {
    return this.#samples.length ? this.#samples.reduce((a, b) => a + b, 0) / this.#samples.length : 0
  }

  /** Share of V8's heap limit in use, lowest over the last samples (0 before the first). */
  get heapUse(): number {
    return this.#heapSamples.length ? Math.min(...this.#heapSamples) : 0
  }

  /** Why new sockets are refused now; undefined while they are taken. Memory first: it is the harder limit. */
  get cause(): BusyCause | undefined {
    return this.#heapBusy ? 'memory' : this.#cpuBusy ? 'cpu' : undefined
  }

  /** True while new sockets are refused. */
  get busy(): boolean {
    return this.#cpuBusy || this.#heapBusy
  }

  /** Called for each new socket: 0 to take it, else the seconds it is told to wait (a refusal, counted). */
  admit(): number {
    if (this.busy) {
      this.refused++
      return this.#policy.retryAfterSeconds
    }
    const { admitsPerSecond, minAdmitsPerSecond, busyAbove } = this.#policy
    // The rate follows the thread's load; with the thread's door off (`busyAbove` Infinity), no rate.
    if (!Number.isFinite(busyAbove)) return 0
    const now = this.#now()
    // Like the door, the pace reads only a full window: the first seconds after start (the relay's own
    // loading, a first device's sync) are no trend, and a relay that came up one second ago at a mean of 1
    // would take one device a second. Measured: the quick catch-up bench's device turned away 1.7 s after
    // start (its third socket in 1.7 s, a single sample of 1) waited 6–12 s to come back, in 3 runs of 10.
    const load = this.#samples.length === WINDOW ? this.utilization : 0
    const rate = Math.max(minAdmitsPerSecond, admitsPerSecond * (1 - load / busyAbove))
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#lastRefill) / 1000) * rate)
    this.#lastRefill = now
    if (this.#tokens >= 1) {
      this.#tokens--
      return 0
    }
    this.refused++
    return this.#policy.rateRetryAfterSeconds
  }
}
