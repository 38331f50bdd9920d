import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb'
import type { PlacetteDb } from '../db/db.ts'
import { createClientSync, relayUrlFor, type ClientSync } from './repo.ts'
import { Projector } from './projector.ts'

/** Everything that needs Automerge, loaded after the board has painted from the index. */
export interface Runtime extends ClientSync {
  projector: Projector
}

export const DOCS_DB_NAME = 'placette-docs'

export function startRuntime(db: PlacetteDb): Runtime {
  const sync = createClientSync({
    relayUrl: relayUrlFor(location),
    storage: new IndexedDBStorageAdapter(DOCS_DB_NAME),
    broadcast: true,
  })
  const projector = new Projector(sync.repo, db, sync.relay)
  return { ...sync, projector }
}
