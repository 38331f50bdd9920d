/**
 * Workarounds for automerge-repo 2.5.6 that both the relay and the client need. (A batch of changes that
 * cancel out, once kept to itself by a repo, is now passed on by patches/@automerge+automerge-repo+2.5.6.patch:
 * a handle emits `change` whenever its heads move.) Type-only imports of
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
