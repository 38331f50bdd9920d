/**
 * A fast path through automerge-repo 2.5.6's inbound message handling, for a relay with many peers.
 *
 * `CollectionSynchronizer.receiveMessage` ends every inbound message by asking the share policy
 * about *every connected peer* (`#documentGenerousPeers`: an `announce` and an `access` call per peer,
 * awaited one peer after the other), to start syncing the document with any peer that should have it
 * and does not yet. On a relay every change is one message in and one acknowledgement back from each
 * of the other members, so with N clients each message costs O(N) promise round trips and the relay's
 * work grows with N² (bench/README.md, "What changed the figures": at 200 clients the scan was a few
 * per cent of the relay's CPU, at 2,000 ten times the peers for ten times the messages).
 *
 * The scan starts the peers the policy shares the document with (`announce`, or `access` for a peer that
 * asked for it) that are not syncing it yet: upstream relays, and clients that asked before access was
 * granted (e.g. the document was still on its way from an upstream relay). For a sync message from a
 * peer that is already syncing that document, only those can be new, so here such a message goes
 * straight to the document's synchronizer, after the same access check the library makes (a policy
 * that stops granting access is still obeyed on every message), and the policy is asked about those
 * candidates alone: the connected peers that sent a message about the document on their current
 * connection and those `announcesTo` names, that are not syncing it. Everything else takes the library's
 * own path unchanged: a peer's *first* message about a
 * document on each connection (so the library records that the peer asked for it, as it must after
 * every reconnection), requests, ephemeral and unavailable messages, a document without a synchronizer
 * yet, a peer that is not syncing it. A peer's messages about one document stay in order.
 */
import type { DocumentId, PeerId, Repo } from '@automerge/automerge-repo'

/** What this needs of automerge-repo's internals (public but `@hidden` in 2.5.6). */
interface DocSynchronizerLike {
  hasPeer(peerId: PeerId): boolean
  receiveMessage(message: unknown): void
  beginSync(peerIds: PeerId[]): Promise<void>
}
interface CollectionSynchronizerLike {
  docSynchronizers: Record<string, DocSynchronizerLike | undefined>
  receiveMessage(message: unknown): Promise<void>
}
interface InboundMessage {
  type: string
  senderId: PeerId
  documentId?: DocumentId
}

export interface FastPathOptions {
  /**
   * Peers the repo's `announce` policy shares every document with, whatever the document (the
   * relay's upstream relays); they are asked about on every message, as the library would.
   */
  announcesTo?: (peerId: PeerId) => boolean
}

/**
 * Installs the fast path on `repo` (see the file comment). Returns a function that removes it.
 * If automerge-repo's internals are not shaped as expected, installs nothing.
 */
export function receiveSyncFromSyncingPeersDirectly(repo: Repo, options: FastPathOptions = {}): () => void {
  const announcesTo = options.announcesTo ?? (() => false)
  const synchronizer = repo.synchronizer as unknown as CollectionSynchronizerLike
  if (typeof synchronizer.receiveMessage !== 'function' || typeof synchronizer.docSynchronizers !== 'object') return () => undefined
  const original = synchronizer.receiveMessage
  /** Per connected peer, the documents whose first message of this connection took the library's path. */
  const seen = new Map<PeerId, Set<DocumentId>>()
  /** The reverse: per document, the connected peers that sent a message about it on this connection. */
  const askers = new Map<DocumentId, Set<PeerId>>()
  const connected = new Set<PeerId>()
  const announced = new Set<PeerId>()
  const onPeer = ({ peerId }: { peerId: PeerId }) => {
    connected.add(peerId)
    if (announcesTo(peerId)) announced.add(peerId)
  }
  const onGone = ({ peerId }: { peerId: PeerId }) => {
    connected.delete(peerId)
    announced.delete(peerId)
    for (const doc of seen.get(peerId) ?? []) {
      const peers = askers.get(doc)
      peers?.delete(peerId)
      if (peers?.size === 0) askers.delete(doc)
    }
    seen.delete(peerId)
  }
  /** As the library's scan, for the candidates only: starts those the policy now shares the document with. */
  const startCandidates = (documentId: DocumentId, docSync: DocSynchronizerLike) => {
    for (const peers of [askers.get(documentId), announced])
      for (const peer of peers ?? []) {
        if (docSync.hasPeer(peer)) continue
        void shouldShare(peer, documentId).then(
          (ok) => {
            if (ok && !docSync.hasPeer(peer) && connected.has(peer) && synchronizer.docSynchronizers[documentId] === docSync) void docSync.beginSync([peer])
          },
          () => undefined,
        )
      }
  }
  const shouldShare = async (peer: PeerId, documentId: DocumentId): Promise<boolean> => {
    const [announce, access] = await Promise.all([repo.shareConfig.announce(peer, documentId), repo.shareConfig.access(peer, documentId)])
    return announce || (access && (askers.get(documentId)?.has(peer) ?? false))
  }
  repo.networkSubsystem.on('peer', onPeer)
  repo.networkSubsystem.on('peer-disconnected', onGone)
  // Messages of one peer about one document still on the library's (longer) path: while there are
  // any, later ones take it too, so that a document's messages from a peer are handled in order.
  const slowInFlight = new Map<string, number>()
  const slow = async (message: unknown, key: string | undefined): Promise<void> => {
    if (key === undefined) return original.call(synchronizer, message)
    slowInFlight.set(key, (slowInFlight.get(key) ?? 0) + 1)
    try {
      await original.call(synchronizer, message)
    } finally {
      const left = (slowInFlight.get(key) ?? 1) - 1
      if (left > 0) slowInFlight.set(key, left)
      else slowInFlight.delete(key)
    }
  }

  const fast = async (message: unknown): Promise<void> => {
    const m = message as InboundMessage
    if ((m.type !== 'sync' && m.type !== 'request') || !m.documentId) return slow(message, undefined)
    const key = `${m.documentId}\n${m.senderId}`
    let docs = seen.get(m.senderId)
    if (!docs?.has(m.documentId)) {
      // Only for peers the repo knows as connected, so that a peer's entry goes with its disconnection.
      if (connected.has(m.senderId)) {
        if (!docs) seen.set(m.senderId, (docs = new Set()))
        docs.add(m.documentId)
        let peers = askers.get(m.documentId)
        if (!peers) askers.set(m.documentId, (peers = new Set()))
        peers.add(m.senderId)
      }
      return slow(message, key)
    }
    if (m.type !== 'sync') return slow(message, key)
    const docSync = synchronizer.docSynchronizers[m.documentId]
    if (!docSync || !docSync.hasPeer(m.senderId) || slowInFlight.has(key)) return slow(message, key)
    // The library checks access on every message; so do we (one call, not one per peer).
    if (!(await repo.shareConfig.access(m.senderId, m.documentId))) return slow(message, key)
    // Still syncing after the await (the peer may have left meanwhile: then the library decides).
    if (synchronizer.docSynchronizers[m.documentId] !== docSync || !docSync.hasPeer(m.senderId) || slowInFlight.has(key)) return slow(message, key)
    docSync.receiveMessage(message)
    startCandidates(m.documentId, docSync)
  }
  synchronizer.receiveMessage = fast
  return () => {
    repo.networkSubsystem.off('peer', onPeer)
    repo.networkSubsystem.off('peer-disconnected', onGone)
    if (synchronizer.receiveMessage === fast) synchronizer.receiveMessage = original
  }
}
