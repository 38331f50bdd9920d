/**
 * `memberDevice(wsUrl, keys, signIn)`: a device of a member in Node, with the app's own sync stack
 * (client/sync: our relay adapter) signing in to a relay that lets in members only. Records the close
 * codes the relay refused it with.
 */
import WebSocket from 'ws'
import type { AutomergeUrl, DocHandle, Repo } from '@automerge/automerge-repo'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import { encodeKey, memberIdFor, type MemberKeys } from '../../shared/identity.ts'
import { signedSyncUrl } from '../../shared/relay-auth.ts'
import { newFeed, type FeedDoc } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { DocUrl, MemberId } from '../../shared/ids.ts'
import { waitFor } from './wait-for.ts'
import { changeSigned } from '../../shared/signed-changes.ts'

class FakeDevice extends EventTarget {
  navigator = { onLine: true }
}

export interface MemberDevice {
  id: MemberId
  keys: MemberKeys
  sync: ClientSync
  closes: number[]
}

export function memberDevice(wsUrl: string, keys: MemberKeys, signIn: { n?: string[]; inv?: string[] }): MemberDevice {
  const closes: number[] = []
  const sync = createClientSync({
    relayUrl: wsUrl,
    WebSocket: WebSocket as never,
    events: new FakeDevice() as never,
    signIn: (url, peer, ticket) => signedSyncUrl(url, { peer, ...signIn }, keys, ticket ? { challenge: ticket } : {}),
  })
  sync.relay.onConnection((c) => {
    if (c.state === 'refused' && c.code) closes.push(c.code)
  })
  return { id: memberIdFor(keys.publicKey), keys, sync, closes }
}

/** A neighbourhood made as the app makes it: the creator's feed, then the document filled in. */
export function createNeighbourhoodAs(who: MemberDevice, name: string): { n: DocHandle<NeighbourhoodDoc>; feed: DocHandle<FeedDoc> } {
  const n = who.sync.repo.create<NeighbourhoodDoc>()
  const feed = who.sync.repo.create<FeedDoc>(newFeed(n.url as DocUrl, who.id))
  n.change((d) =>
    Object.assign(
      d,
      newNeighbourhood({ name, commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: who.id, creatorName: 'Réf', creatorFeed: feed.url as DocUrl, creatorKey: encodeKey(who.keys.publicKey), now: Date.now() }),
    ),
  )
  return { n, feed }
}

/** Finds a document, or undefined if it is still not there after `ms`. */
export async function findOrNot<T>(repo: Repo, url: string, ms = 1500): Promise<DocHandle<T> | undefined> {
  const handle = await repo.find<T>(url as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] }).catch(() => undefined)
  if (!handle) return undefined
  await waitFor(() => handle.isReady(), { timeout: ms }).catch(() => undefined)
  return handle.isReady() ? handle : undefined
}

/** A write to one's own feed as the app makes it: signed with the member's key (shared/signed-changes.ts). */
export function writeSigned(who: MemberDevice, feed: DocHandle<FeedDoc>, change: (d: FeedDoc) => void): void {
  feed.update((doc) => changeSigned(doc, change, { documentId: feed.documentId, secretKey: who.keys.secretKey }))
}
