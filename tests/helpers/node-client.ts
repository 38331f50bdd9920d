/**
 * `nodeClient(wsUrl)`: a Node automerge-repo peer using the stock WebSocket client adapter, so tests
 * prove the relay speaks the protocol every automerge-repo client speaks. No storage: what it knows
 * after `close()` is gone, like a fresh device.
 */
import { Repo, type AnyDocumentId, type DocHandle } from '@automerge/automerge-repo'
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket'
import { WebSocket } from 'ws'
import { waitFor } from './wait-for.ts'

export interface NodeClient {
  repo: Repo
  /** Finds a document through the relay, waiting until the relay has it (it answers "unavailable" until then). */
  findEventually<T>(url: AnyDocumentId, options?: { timeout?: number }): Promise<DocHandle<T>>
  /** Disconnects; safe to call more than once. */
  close(): Promise<void>
}

export function nodeClient(wsUrl: string): NodeClient {
  // Retry every 100 ms rather than 5 s, so a restarted relay is found quickly.
  const repo = new Repo({ network: [new WebSocketClientAdapter(wsUrl, 100)] })
  // Closing twice would make the stock adapter throw (it asserts it still has a socket).
  let closed: Promise<void> | undefined
  return {
    repo,
    findEventually: async <T>(url: AnyDocumentId, { timeout = 10_000 } = {}) => {
      // The relay answers "unavailable" for a document it does not have yet, but remembers who asked
      // and sends the document when it arrives: wait for the handle to become ready.
      const handle = await repo.find<T>(url, { allowableStates: ['ready', 'unavailable'] })
      await waitFor(() => handle.isReady(), { timeout, message: `a client finds ${String(url)}` })
      return handle
    },
    close: () => (closed ??= shutdownStock(repo)),
  }
}

/**
 * Shuts a stock client down once its socket is not in the middle of its handshake. The stock adapter
 * removes its error listener before closing, so closing a socket that is still connecting throws out of
 * band ("WebSocket was closed before the connection was established"): an unhandled error that fails
 * the run (seen once in CI, in access.integration.test.ts, whose stock client retries every 100 ms
 * against a relay that refuses it). The check and the shutdown happen in the same tick.
 */
export async function shutdownStock(repo: Repo): Promise<void> {
  let done: Promise<void> | undefined
  await waitFor(
    () => {
      const connecting = repo.networkSubsystem.adapters.some((a) => a instanceof WebSocketClientAdapter && a.socket?.readyState === WebSocket.CONNECTING)
      if (!connecting) done = repo.shutdown()
      return !connecting
    },
    { timeout: 5000, message: 'the stock client’s socket to finish its handshake' },
  )
  await done
}
