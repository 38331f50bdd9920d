/**
 * Tells Placette clients the heads of each document the relay has durably written
 * (shared/persisted-heads.ts), so that "synced" on a phone means "on the relay's disk".
 *
 * automerge-repo writes a document through its storage subsystem's `saveDoc(documentId, doc)`, which
 * resolves once the storage adapter has written it (for FileStorage: written, fsynced, renamed, folder
 * fsynced). The heads of `doc` at that call are therefore on disk when it resolves; so are the heads of
 * a document loaded from disk. Saves of one document are run one after the other here, so the heads
 * reported for it only move forward.
 *
 * A client hears the persisted heads of a document once it has spoken of that document on its
 * current connection (a `sync` or `request`), then after every save of it.
 */
import { getHeads, type Doc } from '@automerge/automerge'
import type { DocumentId, Message, NetworkAdapterInterface, PeerId, Repo } from '@automerge/automerge-repo'
import { announcesFeature, PERSISTED_HEADS_FEATURE, PERSISTED_HEADS_TYPE, type PersistedHeadsMessage } from '../shared/persisted-heads.ts'
import type { PeerIdString } from '../shared/protocol.ts'
import type { Logger } from './log.ts'

interface Listener {
  /** Per document the peer spoke of on this connection: the heads last told, joined ('' if none yet). */
  readonly told: Map<DocumentId, string>
}

export interface PersistedHeadsReport {
  /** Stops reporting (saves keep working). */
  stop(): void
  /** The heads of `documentId` last known to be on disk, if any. */
  persistedHeads(documentId: DocumentId): string[] | undefined
  /**
   * Tells `peer` about later saves of `documentId` as if it had spoken of it. `known`: the peer already
   * knows the heads on disk now (the heads digest's answer told it, sync-server/heads-digest.ts), so
   * only later saves are told; otherwise the next sync message it sends about it gets them at once.
   */
  follow(peer: PeerId, documentId: DocumentId, known: boolean): void
}

/**
 * Starts reporting persisted heads to the clients of `network` that announce the feature. Call it
 * right after creating the repo, before any document loads.
 */
export function reportPersistedHeads(repo: Repo, network: NetworkAdapterInterface, log: Logger): PersistedHeadsReport {
  const storage = repo.storageSubsystem
  if (!storage) return { stop: () => undefined, persistedHeads: () => undefined, follow: () => undefined }
  const persisted = new Map<DocumentId, string[]>()
  const listeners = new Map<PeerId, Listener>()
  let stopped = false

  const tell = (peerId: PeerId, listener: Listener, documentId: DocumentId): void => {
    const heads = persisted.get(documentId)
    if (!heads?.length) return
    const key = heads.join(',')
    if (listener.told.get(documentId) === key) return
    listener.told.set(documentId, key)
    const message: PersistedHeadsMessage = {
      type: PERSISTED_HEADS_TYPE,
      senderId: repo.peerId as string as PeerIdString,
      targetId: peerId as string as PeerIdString,
      documentId,
      heads,
    }
    network.send(message as unknown as Message)
  }
  const record = (documentId: DocumentId, heads: string[]): void => {
    persisted.set(documentId, heads)
    if (stopped) return
    for (const [peerId, listener] of listeners) if (listener.told.has(documentId)) tell(peerId, listener, documentId)
  }

  // Saves of one document, one after the other, so the heads recorded after each only move forward.
  const queues = new Map<DocumentId, Promise<void>>()
  const saveDoc = storage.saveDoc.bind(storage)
  storage.saveDoc = (documentId: DocumentId, doc: Doc<unknown>): Promise<void> => {
    const heads = getHeads(doc)
    const previous = queues.get(documentId) ?? Promise.resolve()
    const run = previous.then(
      () => saveDoc(documentId, doc),
      () => saveDoc(documentId, doc),
    )
    const done = run.then(() => record(documentId, heads))
    queues.set(documentId, run)
    const forget = () => {
      if (queues.get(documentId) === run) queues.delete(documentId)
    }
    run.then(forget, forget)
    return done
  }
  const loadDoc = storage.loadDoc.bind(storage)
  storage.loadDoc = async <T>(documentId: DocumentId): Promise<Doc<T> | null> => {
    const doc = await loadDoc<T>(documentId)
    if (doc) record(documentId, getHeads(doc))
    return doc
  }

  const onCandidate = ({ peerId, peerMetadata }: { peerId: PeerId; peerMetadata: unknown }) => {
    if (announcesFeature(peerMetadata, PERSISTED_HEADS_FEATURE)) listeners.set(peerId, { told: new Map() })
    else listeners.delete(peerId)
  }
  const onDisconnected = ({ peerId }: { peerId: PeerId }) => void listeners.delete(peerId)
  const onMessage = (message: Message) => {
    if (stopped || (message.type !== 'sync' && message.type !== 'request')) return
    const listener = listeners.get(message.senderId)
    if (!listener) return
    const documentId = message.documentId
    if (!documentId) return
    if (!listener.told.has(documentId)) listener.told.set(documentId, '')
    tell(message.senderId, listener, documentId)
  }
  network.on('peer-candidate', onCandidate)
  network.on('peer-disconnected', onDisconnected)
  network.on('message', onMessage)
  log.debug('reporting persisted heads to clients that ask for them')
  return {
    stop: () => {
      stopped = true
      network.off('peer-candidate', onCandidate)
      network.off('peer-disconnected', onDisconnected)
      network.off('message', onMessage)
    },
    persistedHeads: (documentId) => persisted.get(documentId),
    follow: (peer, documentId, known) => {
      const listener = listeners.get(peer)
      if (listener && !listener.told.has(documentId)) listener.told.set(documentId, known ? (persisted.get(documentId)?.join(',') ?? '') : '')
    },
  }
}
