/**
 * How this device signs in to the relay (shared/relay-auth.ts): as the member of its current
 * profile, naming their neighbourhood; or, before joining, as the newcomer of an invitation it holds.
 * With neither, it connects unsigned: served by an open relay, told "sign-in required" by the others.
 */
import { signedSyncUrl, TICKET_TTL_MS } from '../../shared/relay-auth.ts'
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
 * one request and one round trip fewer. A ticket is single-use and bound to its member, so a spent
 * one, or another profile's, costs only a fresh challenge.
 */
export function relayTickets(db: PlacetteDb, now = () => Date.now()): TicketStore {
  // Kept as [ticket, when it came]; one near its hour is left alone (signing it would cost a refusal).
  const read = async () => {
    const kept = (await db.settings.get('relayTicket'))?.value
    return Array.isArray(kept) && kept.length === 2 ? { ticket: kept[0]!, at: Number(kept[1]) } : undefined
  }
  return {
    kept: async () => {
      const kept = await read()
      return kept && now() - kept.at < TICKET_TTL_MS - TICKET_MARGIN_MS ? kept.ticket : undefined
    },
    keep: async (ticket) => void (await db.settings.put({ key: 'relayTicket', value: [ticket, String(now())] })),
    spent: (ticket) =>
      db.transaction('rw', db.settings, async () => {
        if ((await read())?.ticket === ticket) await db.settings.delete('relayTicket')
      }),
  }
}

/** A kept ticket is not tried in the last minutes of its hour (the way to the relay takes time too). */
const TICKET_MARGIN_MS = 5 * 60_000
