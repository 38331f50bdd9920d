/**
 * What the relay does with a promise rejection nobody handled (main.ts): log it and keep serving.
 *
 * automerge-repo 2.5.6 waits up to 60 s for a document to become ready in places that never catch the
 * timeout (DocSynchronizer.beginSync, when a peer claims to have a document the relay cannot load,
 * e.g. after sending changes that did not apply). Each such peer and document then leaves one
 * "withTimeout: timed out" rejection behind a minute later: the fuzz test saw about one per two hostile
 * frames. Logged one by one as errors, they let any client flood the log, so they are counted and
 * summed up at most once a minute, at warn level. Every other rejection is logged as an error.
 */
import { summarizer } from './library-output.ts'
import type { Logger } from './log.ts'

const isRepoWaitTimeout = (err: unknown): boolean =>
  err instanceof Error && err.name === 'TimeoutError' && err.message.startsWith('withTimeout: timed out')

export function createRejectionHandler(log: Logger, now: () => number = Date.now): (err: unknown) => void {
  const summary = summarizer(now)
  return (err) => {
    if (!isRepoWaitTimeout(err)) {
      log.error('unhandled rejection', { err })
      return
    }
    const line = summary('wait timeout')
    if (line) log.warn('automerge-repo gave up waiting for documents that never loaded', { times: line.times, sinceMs: line.sinceMs })
  }
}
