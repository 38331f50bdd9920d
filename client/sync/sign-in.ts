/**
 * How this device signs in to the relay (shared/relay-auth.ts): as the member of its current
 * profile, naming their neighbourhood; or, before joining, as the newcomer of an invitation it holds.
 * With neither, it has nobody to sign in as and does not connect.
 */
import { fetchChallenge, signedSyncUrl } from '../../shared/relay-auth.ts'
import { docIdOf } from '../../shared/ids.ts'
import type { PendingInvitation, PlacetteDb } from '../db/db.ts'

export function deviceSignIn(db: PlacetteDb) {
  return async (url: string, peer: string): Promise<string | undefined> => {
    const [current, pending] = await Promise.all([db.settings.get('currentProfile'), db.settings.get('invitation')])
    const profile = typeof current?.value === 'string' ? await db.profiles.get(current.value as never) : undefined
    const invitation = pending?.value && typeof pending.value === 'object' ? (pending.value as PendingInvitation) : undefined
    // An invitation being taken up signs in as the newcomer, who reads the neighbourhood and adds themselves.
    if (invitation) return signedSyncUrl(url, { peer, n: [invitation.neighbourhood], inv: [invitation.token] }, invitation.keys)
    if (profile?.keys) return signedSyncUrl(url, { peer, n: [docIdOf(profile.neighbourhood)], inv: profile.invitation ? [profile.invitation] : [] }, profile.keys)
    // Nobody to sign in as; still find out whether the relay answers, to say "offline" honestly.
    await fetchChallenge(url)
    return undefined
  }
}
