import type { PlacetteDb } from '../db/db.ts'
import { createClientSync, relayUrlFor, type ClientSync } from './repo.ts'
import { Projector } from './projector.ts'
import { deviceSignIn, relayTickets } from './sign-in.ts'
import { IdbStorage } from './idb-storage.ts'
import { ResilientStorage } from './resilient-storage.ts'
import type { StorageHealth } from './storage-health.ts'

/** Everything that needs Automerge, loaded after the board has painted from the index. */
export interface Runtime extends ClientSync {
  projector: Projector
}

export const DOCS_DB_NAME = 'placette-docs'

/** `health` hears of every write the device refuses (a full disk): nothing is lost, it is retried. */
export function startRuntime(db: PlacetteDb, health: StorageHealth): Runtime {
  const sync = createClientSync({
    relayUrl: relayUrlFor(location),
    storage: new ResilientStorage(new IdbStorage(DOCS_DB_NAME), health),
    broadcast: true,
    signIn: deviceSignIn(db),
    tickets: relayTickets(db),
  })
  const projector = new Projector(sync.repo, db, sync.relay, health)
  return { ...sync, projector }
}

/**
 * Adds a WebRTC data channel to the repo as one more way to sync; removes it when the channel closes.
 * Loaded only when someone links two devices directly.
 */
export async function attachDataChannel(rt: Runtime, channel: RTCDataChannel, events: { onPeer?: (peerId: string) => void; onClose?: () => void }): Promise<void> {
  const { DataChannelAdapter } = await import('./webrtc-adapter.ts')
  const adapter: InstanceType<typeof DataChannelAdapter> = new DataChannelAdapter(channel, {
    onPeer: events.onPeer,
    onClose: () => {
      rt.repo.networkSubsystem.removeNetworkAdapter(adapter)
      events.onClose?.()
    },
  })
  rt.repo.networkSubsystem.addNetworkAdapter(adapter)
}
