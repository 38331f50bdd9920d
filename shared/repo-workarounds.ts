/**
 * Workarounds for automerge-repo 2.5.6 that both the relay and the client need. Type-only imports of
 * automerge-repo: shared/ stays free of the repo at run time.
 */
import type { DocHandle, DocumentId, Repo } from '@automerge/automerge-repo'

/**
 * Calls `fn` once for each document handle a repo holds or comes to hold: those loaded now, and every
 * document that later starts syncing with any peer (automerge-repo's synchronizer says so, before it
 * applies that peer's message). Once per handle, not per document: a document evicted from memory
 * (sync-server/eviction.ts) and loaded again has a new handle, which `fn` sees too. Returns a
 * function that stops listening.
 */
export function onEachDocument(repo: Repo, fn: (handle: DocHandle<unknown>) => void): () => void {
  const seen = new WeakSet<DocHandle<unknown>>()
  const visit = (handle: DocHandle<unknown> | undefined) => {
    if (!handle || seen.has(handle)) return
    seen.add(handle)
    fn(handle)
  }
  const onOpen = ({ documentId }: { documentId: DocumentId }) => visit(repo.handles[documentId])
  repo.synchronizer.on('open-doc', onOpen)
  for (const handle of Object.values(repo.handles)) visit(handle)
  return () => void repo.synchronizer.off('open-doc', onOpen)
}

/**
 * Makes a repo pass on every change it receives, including a batch whose changes cancel out.
 *
 * automerge-repo 2.5.6 sends a document to its other peers when the handle emits `change`, and a
 * handle emits `change` only when the new heads bring patches. A batch that cancels out — a post
 * written and deleted while offline, then synced in one go — moves the heads but brings no patch, so
 * a relay (or a phone between BroadcastChannel, WebRTC and the relay) would keep it to itself: every
 * other peer of that document stays behind
 * until the next change of the document or its next reconnect. The convergence simulation found it
 * (seed 5). Here a heads change that came without a `change` event gets one, with no patches (listeners
 * such as the client's projector take it as a harmless re-read).
 */
export function passOnChangesThatCancelOut(repo: Repo): () => void {
  return onEachDocument(repo, (handle) => {
    let silent = false
    handle.on('change', () => (silent = false))
    handle.on('heads-changed', () => {
      // The handle emits `heads-changed`, then `change` if there are patches, in the same call.
      silent = true
      queueMicrotask(() => {
        if (!silent || !handle.isReady()) return
        silent = false
        const doc = handle.doc()
        handle.emit('change', { handle, doc, patches: [], patchInfo: { before: doc, after: doc, source: 'change' } })
      })
    })
  })
}

