/**
 * How this device signs in to the relay (shared/relay-auth.ts): as the member of its current
 * profile, naming their neighbourhood; or, before joining, as the newcomer of an invitation it holds.
 * With neither, it connects unsigned: served by an open relay, told "sign-in required" by the others.
 */
import { signedSyncUrl } from '../../shared/relay-auth.ts'
import { docIdOf } from '../../shared/ids.ts'
import type { PendingInvitation, PlacetteDb } from '../db/db.ts'
import type { TicketStore } from './websocket-adapter.ts'

export function deviceSignIn(db: PlacetteDb) {
  // `ticket`: the relay's challenge for our next connection, from its last answer (shared/relay-auth.ts).
  return async (url: string, peer: string, ticket?: string): Promise<string | undefined> => {
    const options = ticket ? { challenge: ticket } : {}
    const [current, pending] = await Promise.all([db.settings.get('currentProfile'), db.settings.get('invitation')])
    const profile = typeof current?.value === 'string' ? await db.profiles.get(current.value as never) : undefined
    const invitation = pending?.value && typeof pending.value === 'object' ? (pending.value as PendingInvitation) : undefined
    // An invitation being taken up signs in as the newcomer, who reads the neighbourhood and adds themselves.
    if (invitation) return signedSyncUrl(url, { peer, n: [invitation.neighbourhood], inv: [invitation.token] }, invitation.keys, options)
    if (profile?.keys) return signedSyncUrl(url, { peer, n: [docIdOf(profile.neighbourhood)], inv: profile.invitation ? [profile.invitation] : [] }, profile.keys, options)
    // Nobody to sign in as: connect unsigned. A relay open to all (a closed network) serves us; one that
    // lets in members only says "sign-in required", which the adapter reports as "not connected yet".
    return url
  }
}

/**
 * The relay's ticket for the next sign-in, kept in the index database: opening the app again (from
 * the home screen, an hour later at most) then signs in without first asking the relay for a challenge,
 * one request and one round trip fewer. A ticket is single-use and bound to its member, so another
 * tab that takes it first, or another profile, costs only a fresh challenge.
 */
export function relayTickets(db: PlacetteDb): TicketStore {
  return {
    take: () =>
      db.transaction('rw', db.settings, async () => {
        const kept = (await db.settings.get('relayTicket'))?.value
        if (kept !== undefined) await db.settings.delete('relayTicket')
        return typeof kept === 'string' ? kept : undefined
      }),
    keep: async (ticket) => void (await db.settings.put({ key: 'relayTicket', value: ticket })),
  }
}
