/**
 * `appDevice(wsUrl)`: a device in Node running the app's own sync stack (createClientSync, heads digest
 * and catch-up included) over `ws`, with a fake `window` to take it offline and back, and counters of
 * what it exchanged with the relay: sync messages by document, bytes on its TCP sockets, the relay's
 * answers to its joins, the heads the relay reported on disk and what catch-up bundles did.
 */
import * as A from '@automerge/automerge'
import { cbor, type DocHandle, type StorageAdapterInterface } from '@automerge/automerge-repo'
import type { Socket } from 'node:net'
import WebSocket from 'ws'
import type { CatchUpReport } from '../../client/sync/heads-digest.ts'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import type { MemberKeys } from '../../shared/identity.ts'
import { signedSyncUrl } from '../../shared/relay-auth.ts'
import { waitFor } from './wait-for.ts'

/** Stands in for `window`: the device's idea of whether it is online. */
export class FakeWindow extends EventTarget {
  navigator = { onLine: true }
  set(online: boolean) {
    this.navigator.onLine = online
    this.dispatchEvent(new Event(online ? 'online' : 'offline'))
  }
}

/** Rewrites the relay's decoded `peer` answer before the device reads it (tests of a misbehaving relay). */
export type Tamper = (peer: Record<string, unknown>) => void

export interface AppDevice {
  sync: ClientSync
  window: FakeWindow
  /** Bytes both ways on every TCP socket the device opened (HTTP upgrade and WebSocket framing included). */
  wireBytes(): number
  /** Sync messages exchanged with the relay, by document. */
  syncMessages: Map<string, number>
  /** Joins the relay answered. */
  replies: number
  persisted: Map<string, string[]>
  /** What each relay answer's catch-up bundles did. */
  catchUps: CatchUpReport[]
}

export interface AppDeviceOptions {
  storage?: StorageAdapterInterface
  /** Signs each connection in as this member (relays in `members` mode). */
  keys?: MemberKeys
  tamper?: Tamper
}

type Listen = (type: string, listener: (event: { data: unknown }) => void) => void

export function appDevice(wsUrl: string, options: AppDeviceOptions = {}): AppDevice {
  const sockets: Socket[] = []
  const { tamper, keys } = options
  class CountingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url)
      this.once('upgrade', (res: { socket: Socket }) => sockets.push(res.socket))
      if (!tamper) return
      const listen = this.addEventListener.bind(this) as unknown as Listen
      const tampering: Listen = (type, listener) =>
        listen(type, (event) => {
          const decoded = type === 'message' ? (cbor.decode(new Uint8Array(event.data as ArrayBuffer)) as Record<string, unknown>) : undefined
          if (decoded?.type !== 'peer') return listener(event)
          tamper(decoded)
          const again = cbor.encode(decoded)
          listener({ data: again.buffer.slice(again.byteOffset, again.byteOffset + again.byteLength) })
        })
      ;(this as unknown as { addEventListener: Listen }).addEventListener = tampering
    }
  }
  const window = new FakeWindow()
  const catchUps: CatchUpReport[] = []
  const sync = createClientSync({
    relayUrl: wsUrl,
    WebSocket: CountingWebSocket as never,
    events: window as never,
    storage: options.storage,
    onCatchUp: (report) => catchUps.push(report),
    ...(keys ? { signIn: (url: string, peer: string, ticket?: string) => signedSyncUrl(url, { peer }, keys, ticket ? { challenge: ticket } : {}) } : {}),
  })
  const d: AppDevice = {
    sync,
    window,
    wireBytes: () => sockets.reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0),
    syncMessages: new Map(),
    replies: 0,
    persisted: new Map(),
    catchUps,
  }
  const count = (m: { type: string; documentId?: string }) => {
    if (m.type === 'sync' || m.type === 'request') d.syncMessages.set(m.documentId ?? '', (d.syncMessages.get(m.documentId ?? '') ?? 0) + 1)
  }
  const send = sync.relay.send.bind(sync.relay)
  sync.relay.send = (m) => {
    count(m)
    send(m)
  }
  sync.relay.on('message', count)
  sync.relay.onRelayOpen(() => d.replies++)
  sync.relay.onPersistedHeads((id, heads) => d.persisted.set(id, heads))
  return d
}

export const hexHeads = (h: DocHandle<unknown>): string[] => A.getHeads(h.doc() as A.Doc<unknown>)
export const sameHeads = (a: readonly string[] | undefined, b: readonly string[]): boolean => !!a && a.length === b.length && a.every((x) => b.includes(x))

/** Until the relay has written every document at the device's heads. */
export async function relayHolds(d: AppDevice, handles: DocHandle<unknown>[]): Promise<void> {
  await waitFor(() => handles.every((h) => sameHeads(d.persisted.get(h.documentId), hexHeads(h))), {
    timeout: 20_000,
    message: 'the relay writes every document',
  })
}

/** Takes the device offline, then back, until the relay has answered its new join. */
export async function reconnect(d: AppDevice): Promise<void> {
  await goOffline(d)
  await comeBack(d)
}

export async function goOffline(d: AppDevice): Promise<void> {
  d.window.set(false)
  await waitFor(() => d.sync.relay.connection.state === 'offline', { message: 'the device goes offline' })
}

export async function comeBack(d: AppDevice): Promise<void> {
  const before = d.replies
  d.window.set(true)
  await waitFor(() => d.replies > before, { message: 'the relay answers the join' })
}
