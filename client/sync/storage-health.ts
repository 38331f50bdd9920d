/**
 * Whether this device manages to write what it holds: the Automerge documents (IndexedDB through the
 * repo's storage) and the Dexie index. A failed write is reported here instead of being thrown at the
 * person: what was written stays in memory, keeps syncing, and is written again on `retry()`.
 */

import { isQuotaError } from '../../shared/errors.ts'

/** `quota`: the browser says the device (or our share of it) is full. `failed`: any other refusal. */
export type StorageProblem = 'quota' | 'failed'

export interface StorageHealthState {
  /** undefined while every write succeeds. */
  problem: StorageProblem | undefined
  /** What could not be written yet: documents still only in memory, index rows not yet updated. */
  unsaved: { documents: number; index: number }
}

export type StoragePart = 'documents' | 'index'

/** Retry after 5 s, then back off to a minute: the person may free space at any time. */
const RETRY_DELAYS_MS = [5_000, 15_000, 30_000, 60_000] as const

export class StorageHealth {
  #problems = new Map<StoragePart, StorageProblem>()
  #unsaved: Record<StoragePart, number> = { documents: 0, index: 0 }
  #listeners = new Set<(state: StorageHealthState) => void>()
  #retriers = new Set<() => Promise<void>>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #attempt = 0
  readonly #retryDelays: readonly number[]

  constructor(options: { retryDelaysMs?: readonly number[] } = {}) {
    this.#retryDelays = options.retryDelaysMs ?? RETRY_DELAYS_MS
  }

  get state(): StorageHealthState {
    const problems = [...this.#problems.values()]
    return {
      problem: problems.includes('quota') ? 'quota' : problems[0],
      unsaved: { ...this.#unsaved },
    }
  }

  /** A write of `part` failed; `unsaved` is how much of it now waits in memory. */
  failed(part: StoragePart, error: unknown, unsaved: number): void {
    this.#problems.set(part, isQuotaError(error) ? 'quota' : 'failed')
    this.#unsaved[part] = unsaved
    this.#emit()
    this.#scheduleRetry()
  }

  /** Everything of `part` is written again. */
  recovered(part: StoragePart): void {
    if (!this.#problems.has(part) && this.#unsaved[part] === 0) return
    this.#problems.delete(part)
    this.#unsaved[part] = 0
    if (!this.#problems.size) {
      this.#attempt = 0
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#emit()
  }

  subscribe(listener: (state: StorageHealthState) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Registers what to run on a retry (write what waits in memory); returns its removal. */
  onRetry(retrier: () => Promise<void>): () => void {
    this.#retriers.add(retrier)
    return () => this.#retriers.delete(retrier)
  }

  /** Tries every waiting write now (the "Réessayer" button, or the timer). */
  async retry(): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    await Promise.all([...this.#retriers].map((r) => r().catch(() => undefined)))
    if (this.#problems.size) this.#scheduleRetry()
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#listeners.clear()
    this.#retriers.clear()
  }

  #scheduleRetry(): void {
    if (this.#timer !== undefined || !this.#retryDelays.length) return
    const delay = this.#retryDelays[Math.min(this.#attempt++, this.#retryDelays.length - 1)]
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.retry()
    }, delay)
  }

  #emit(): void {
    const state = this.state
    for (const l of this.#listeners) l(state)
  }
}
