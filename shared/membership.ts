/**
 * Who is what in a neighbourhood, derived from its document alone, and which writes to that document
 * a member may make. The same rules run on the relay (which refuses a write that breaks them) and on
 * devices (which show "new neighbour", offer vouching, and hide what a revoked member wrote).
 *
 * Every member writes only under `members[their own ID]`: their entry, the invitation they came with,
 * the neighbours they vouch for, and (référents only) the référents they name and the members they
 * revoke. So the relay can check a write by looking at where it lands, and nobody can vouch in
 * someone else's name.
 */
import { decodeKey, memberIdFor } from './identity.ts'
import { checkInvitation } from './invitation.ts'
import type { MemberId } from './ids.ts'
import type { MemberEntry, NeighbourhoodDoc } from './schema/neighbourhood.ts'

export type MemberStatus = 'referent' | 'member' | 'pending' | 'revoked' | 'left'

export interface Membership {
  statusOf(id: MemberId): MemberStatus | undefined
  readonly referents: ReadonlySet<MemberId>
  /** Référents and vouched members: may vouch for newcomers. */
  readonly full: ReadonlySet<MemberId>
  readonly pending: ReadonlySet<MemberId>
  /** Revoked or gone: the relay cuts them off and devices stop showing what they wrote. */
  readonly out: ReadonlySet<MemberId>
  /** Who vouched for whom (counted vouches only), for "vouched by …" on a profile. */
  vouchersOf(id: MemberId): MemberId[]
}

/** Two full members vouching make a newcomer a member; one référent is enough. */
export const VOUCHES_NEEDED = 2

const keysOf = <K extends string>(record: Record<K, unknown> | undefined): K[] => (record ? (Object.keys(record) as K[]) : [])

/** The member's key matches their ID: an entry that does not is nobody's, and counts for nothing. */
export function entryIsGenuine(id: MemberId, entry: MemberEntry | undefined): boolean {
  const key = entry?.publicKey ? decodeKey(entry.publicKey) : undefined
  return !!key && memberIdFor(key) === id
}

export function membershipOf(doc: NeighbourhoodDoc): Membership {
  const members = doc.members ?? ({} as NeighbourhoodDoc['members'])
  const ids = keysOf(members).filter((id) => entryIsGenuine(id, members[id]))
  const present = new Set(ids)
  const left = new Set(ids.filter((id) => members[id]?.leftAt !== undefined))

  // Référents: those written at creation, then whoever a référent names (until nothing changes).
  const referents = new Set<MemberId>([doc.createdBy, ...(doc.referents ?? [])].filter((id) => present.has(id)))
  for (let grew = true; grew; ) {
    grew = false
    for (const r of [...referents]) {
      for (const named of keysOf(members[r]?.names)) {
        if (present.has(named) && !referents.has(named)) {
          referents.add(named)
          grew = true
        }
      }
    }
  }
  // Revoked by a référent (the creator cannot be): loses every role at once.
  const revoked = new Set<MemberId>()
  for (const r of referents) for (const id of keysOf(members[r]?.revokes)) if (id !== doc.createdBy && id !== r) revoked.add(id)
  const out = new Set([...revoked, ...left])
  for (const id of out) referents.delete(id)

  const full = new Set(referents)
  const vouchers = new Map<MemberId, MemberId[]>()
  for (let grew = true; grew; ) {
    grew = false
    for (const id of ids) {
      if (full.has(id) || out.has(id)) continue
      const by = ids.filter((v) => full.has(v) && v !== id && members[v]?.vouches?.[id] !== undefined)
      vouchers.set(id, by)
      if (by.some((v) => referents.has(v)) || by.length >= VOUCHES_NEEDED) {
        full.add(id)
        grew = true
      }
    }
  }
  const pending = new Set(ids.filter((id) => !full.has(id) && !out.has(id)))
  return {
    referents,
    full,
    pending,
    out,
    statusOf: (id) =>
      !present.has(id) ? undefined : left.has(id) ? 'left' : revoked.has(id) ? 'revoked' : referents.has(id) ? 'referent' : full.has(id) ? 'member' : 'pending',
    vouchersOf: (id) => vouchers.get(id) ?? ids.filter((v) => v !== id && members[v]?.vouches?.[id] !== undefined),
  }
}

export type WriteRefusal =
  | 'not-yours'
  | 'not-invited'
  | 'invitation-used-up'
  | 'cut-off'
  | 'pending-cannot-vouch'
  | 'not-referent'
  | 'key-mismatch'
  | 'bad-creation'

export type WriteCheck = { ok: true; joined?: { invitation: string } } | { ok: false; reason: WriteRefusal; detail: string }

/**
 * May `sender` turn `before` into `after` by writing at `paths`? `before` is undefined for a new
 * document. `now` dates invitations; `usesLeft` says whether an invitation still has a use (the relay
 * counts them; a device cannot, and passes `() => true`).
 */
export function checkNeighbourhoodWrite(input: {
  sender: MemberId
  before: NeighbourhoodDoc | undefined
  after: NeighbourhoodDoc
  paths: ReadonlyArray<ReadonlyArray<string | number>>
  documentId: string
  now: number
  usesLeft?: (invitationNonce: string, uses: number) => boolean
}): WriteCheck {
  const { sender, before, after, paths } = input
  const refuse = (reason: WriteRefusal, detail: string): WriteCheck => ({ ok: false, reason, detail })
  const mine = after.members?.[sender]

  if (!before) {
    // Creating a neighbourhood: its creator is its only member and référent.
    const ids = keysOf(after.members)
    if (after.createdBy !== sender || ids.length !== 1 || ids[0] !== sender || (after.referents ?? []).some((r) => r !== sender)) {
      return refuse('bad-creation', 'a new neighbourhood must be created by its only member')
    }
    return entryIsGenuine(sender, mine) ? { ok: true } : refuse('key-mismatch', 'the creator’s key does not match their ID')
  }

  for (const path of paths) {
    if (path[0] !== 'members' || path[1] !== sender) return refuse('not-yours', `writes at ${path.slice(0, 3).join('.')}`)
  }
  if (!mine) return refuse('not-yours', 'an entry cannot be removed')
  if (!entryIsGenuine(sender, mine)) return refuse('key-mismatch', 'the entry’s key does not match its ID')

  const was = before.members?.[sender]
  const status = membershipOf(before).statusOf(sender)
  let joined: { invitation: string } | undefined
  if (!was || status === 'left') {
    const token = mine.invitation
    if (!token) return refuse('not-invited', 'joining needs an invitation')
    let check
    try {
      check = checkInvitation(token, input.documentId, registryOf(before), input.now)
    } catch {
      return refuse('not-invited', 'damaged invitation')
    }
    if (!check.ok) return refuse('not-invited', `invitation ${check.reason}`)
    if (!was && input.usesLeft && !input.usesLeft(check.invitation.nonce, check.invitation.uses)) {
      return refuse('invitation-used-up', 'this invitation has been used as many times as allowed')
    }
    joined = { invitation: token }
  } else if (status === 'revoked') {
    return refuse('cut-off', 'a revoked member cannot write')
  } else if (was.publicKey !== mine.publicKey) {
    return refuse('key-mismatch', 'a member’s key cannot change')
  }

  const changed = (field: 'vouches' | 'names' | 'revokes') => JSON.stringify(was?.[field] ?? {}) !== JSON.stringify(mine[field] ?? {})
  const full = status === 'referent' || status === 'member'
  if (changed('vouches') && !full) return refuse('pending-cannot-vouch', 'a new neighbour cannot vouch yet')
  if ((changed('names') || changed('revokes')) && status !== 'referent') return refuse('not-referent', 'only référents name référents or revoke members')
  return joined ? { ok: true, joined } : { ok: true }
}

/** The registry as invitations need it: a member's key, and whether they are a référent now. */
export function registryOf(doc: NeighbourhoodDoc) {
  const membership = membershipOf(doc)
  return {
    publicKeyOf: (id: MemberId) => {
      const key = doc.members?.[id]?.publicKey
      return key ? decodeKey(key) : undefined
    },
    isReferent: (id: MemberId) => membership.referents.has(id),
  }
}
