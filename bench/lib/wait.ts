/** Polls until `condition` is truthy; tells what it waited for when it gives up. */
export async function waitUntil(condition: () => unknown, what: string, timeoutMs = 30_000, intervalMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
