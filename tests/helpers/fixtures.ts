/**
 * Per-test fixtures for integration tests: relays started open on port 0 and stock Node clients,
 * each stopped after the test in reverse order of creation (clients before the relays they use).
 * Call once at the top of a test file.
 */
import { afterEach } from 'vitest'
import { nodeClient, type NodeClient } from './node-client.ts'
import { startRelay, type StartRelayOptions, type TestRelay } from './relay.ts'

export function relayFixtures(): {
  relay: (options?: StartRelayOptions) => Promise<TestRelay>
  client: (wsUrl: string) => NodeClient
  /** Anything else to undo after the test; run last-in, first-out with the relays and clients. */
  cleanups: Array<() => Promise<unknown>>
} {
  const cleanups: Array<() => Promise<unknown>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return {
    cleanups,
    relay: async (options = {}) => {
      const started = await startRelay({ access: 'open', ...options })
      cleanups.push(() => started.stop())
      return started
    },
    client: (wsUrl) => {
      const c = nodeClient(wsUrl)
      cleanups.push(() => c.close())
      return c
    },
  }
}
