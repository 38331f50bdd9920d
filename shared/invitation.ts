/**
 * Invitations: capability tokens signed by a référent — which neighbourhood, who invites, until when,
 * how many uses — carried in the join link and its QR code, and printable at the mairie's counter.
 * The relay checks the signature against the référent's key in the neighbourhood's registry and
 * counts the uses; a device checks it before showing "you are invited".
 */
import { PlacetteError, Reason } from './errors.ts'
import { ID_PATTERN, randomId, type MemberId } from './ids.ts'
import { openToken, signToken, verify } from './identity.ts'

export interface Invitation {
  v: 1
  /** The neighbourhood document's ID (no `automerge:` prefix). */
  n: string
  /** The inviting référent. */
  by: MemberId
  /** Expiry, ms since epoch. */
  exp: number
  /** How many people may join with it. */
  uses: number
  /** Makes every invitation distinct (uses are counted per nonce). */
  nonce: string
}

const CONTEXT = 'invitation:v1'
const DOC_ID = /^[1-9A-HJ-NP-Za-km-z]{20,60}$/
export const MAX_INVITATION_USES = 500
export const MAX_INVITATION_DAYS = 366

export function createInvitation(input: { neighbourhood: string; by: MemberId; validDays: number; uses: number; now: number }, secretKey: Uint8Array): string {
  const days = Math.min(Math.max(1, Math.round(input.validDays)), MAX_INVITATION_DAYS)
  const invitation: Invitation = {
    v: 1,
    n: input.neighbourhood,
    by: input.by,
    exp: input.now + days * 24 * 3600 * 1000,
    uses: Math.min(Math.max(1, Math.round(input.uses)), MAX_INVITATION_USES),
    nonce: randomId(16),
  }
  return signToken(CONTEXT, invitation, secretKey)
}

/** Reads a token's claims without checking them (to find whose key to check it with). */
export function readInvitation(token: string): { invitation: Invitation; body: Uint8Array; signature: Uint8Array } {
  const opened = openToken(token)
  if (!opened) throw new PlacetteError(Reason.invalidInput, 'damaged invitation')
  const { body, signature } = opened
  const i = opened.value as Partial<Invitation>
  if (i.v !== 1 || typeof i.n !== 'string' || !DOC_ID.test(i.n) || typeof i.by !== 'string' || !ID_PATTERN.test(i.by) || typeof i.exp !== 'number' || typeof i.uses !== 'number' || !Number.isInteger(i.uses) || i.uses < 1 || i.uses > MAX_INVITATION_USES || typeof i.nonce !== 'string' || i.nonce.length > 64) {
    throw new PlacetteError(Reason.invalidInput, 'damaged invitation')
  }
  return { invitation: i as Invitation, body, signature }
}

export type InvitationCheck = { ok: true; invitation: Invitation } | { ok: false; reason: 'forged' | 'expired' | 'not-referent' | 'other-neighbourhood' }

/**
 * Checks a token for `neighbourhood`, given how to find a member's public key and whether they are a
 * référent (both from the neighbourhood's registry). Uses are counted by whoever admits the member.
 */
export function checkInvitation(
  token: string,
  neighbourhood: string,
  registry: { publicKeyOf(id: MemberId): Uint8Array | undefined; isReferent(id: MemberId): boolean },
  now: number,
): InvitationCheck {
  const { invitation, body, signature } = readInvitation(token)
  if (invitation.n !== neighbourhood) return { ok: false, reason: 'other-neighbourhood' }
  const key = registry.publicKeyOf(invitation.by)
  if (!key || !verify(CONTEXT, body, signature, key)) return { ok: false, reason: 'forged' }
  if (!registry.isReferent(invitation.by)) return { ok: false, reason: 'not-referent' }
  if (invitation.exp < now) return { ok: false, reason: 'expired' }
  return { ok: true, invitation }
}
