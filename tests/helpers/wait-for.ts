/**
 * Polls until `condition` returns something truthy (or a promise of it) and returns that value, as
 * automerge-repo's test/helpers/waitFor.ts does. Tests wait for a state, never for a duration.
 */
export interface WaitForOptions {
  /** Give up after this many ms (default 10 s). */
  timeout?: number
  /** Poll every this many ms (default 20). */
  interval?: number
  /** Said in the timeout error, e.g. "client B sees the post". */
  message?: string
}

export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const { timeout = 10_000, interval = 20, message = 'condition' } = options
  const deadline = Date.now() + timeout
  let lastError: unknown
  for (;;) {
    try {
      const value = await condition()
      if (value) return value as NonNullable<T>
    } catch (err) {
      // A condition may throw until the state it reads exists (e.g. a document not yet loaded).
      lastError = err
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`waitFor timed out after ${timeout} ms: ${message}${why}`)
    }
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
