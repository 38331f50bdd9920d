import { describe, expect, it } from 'vitest'
import { encodeKey, generateMemberKeys, memberIdFor, type MemberKeys } from './identity.ts'
import { createInvitation } from './invitation.ts'
import { checkNeighbourhoodWrite, membershipOf } from './membership.ts'
import { newNeighbourhood, type MemberEntry, type NeighbourhoodDoc } from './schema/neighbourhood.ts'
import type { DocUrl, MemberId } from './ids.ts'

const N = '2VqxRMeaSnHUVbLaX2bC7ZS6kD7e'
const feed = 'automerge:2VqxRMeaSnHUVbLaX2bC7ZS6kD7f' as DocUrl
const NOW = 1_800_000_000_000

function person(): { keys: MemberKeys; id: MemberId } {
  const keys = generateMemberKeys()
  return { keys, id: memberIdFor(keys.publicKey) }
}

function world() {
  const creator = person()
  const doc = newNeighbourhood({ name: 'Le Bourg', commune: { insee: '01001', name: 'X', postcode: '01400' }, creator: creator.id, creatorName: 'Jeanne', creatorFeed: feed, creatorKey: encodeKey(creator.keys.publicKey), now: NOW })
  const invite = (by = creator, days = 7, uses = 5) => createInvitation({ neighbourhood: N, by: by.id, validDays: days, uses, now: NOW }, by.keys.secretKey)
  const entry = (p: { keys: MemberKeys }, extra: Partial<MemberEntry> = {}): MemberEntry => ({ displayName: 'X', joinedAt: NOW, feed, publicKey: encodeKey(p.keys.publicKey), ...extra })
  const add = (d: NeighbourhoodDoc, p: { keys: MemberKeys; id: MemberId }, extra: Partial<MemberEntry> = {}): NeighbourhoodDoc => ({ ...d, members: { ...d.members, [p.id]: entry(p, { invitation: invite(), ...extra }) } })
  return { creator, doc, invite, entry, add }
}

const edit = (d: NeighbourhoodDoc, id: MemberId, change: Partial<MemberEntry>): NeighbourhoodDoc => ({ ...d, members: { ...d.members, [id]: { ...d.members[id]!, ...change } } })

describe('membershipOf', () => {
  it('makes the creator a référent and a newcomer pending until vouched', () => {
    const { creator, doc, add } = world()
    const ana = person()
    const d = add(doc, ana)
    const m = membershipOf(d)
    expect(m.statusOf(creator.id)).toBe('referent')
    expect(m.statusOf(ana.id)).toBe('pending')
    expect(membershipOf(edit(d, creator.id, { vouches: { [ana.id]: NOW } })).statusOf(ana.id)).toBe('member')
  })

  it('needs two members, not one, and never counts a pending member’s vouch', () => {
    const { creator, doc, add } = world()
    const [a, b, c, x] = [person(), person(), person(), person()]
    let d = add(add(add(add(doc, a), b), c), x)
    d = edit(d, creator.id, { vouches: { [a.id]: NOW, [b.id]: NOW } })
    d = edit(d, a.id, { vouches: { [x.id]: NOW } })
    d = edit(d, c.id, { vouches: { [x.id]: NOW } }) // c is pending: does not count
    expect(membershipOf(d).statusOf(x.id)).toBe('pending')
    d = edit(d, b.id, { vouches: { [x.id]: NOW } })
    expect(membershipOf(d).statusOf(x.id)).toBe('member')
    expect(membershipOf(d).vouchersOf(x.id).sort()).toEqual([a.id, b.id].sort())
  })

  it('revokes, names référents, and ignores entries whose key is not theirs', () => {
    const { creator, doc, add, entry } = world()
    const [a, b] = [person(), person()]
    let d = edit(add(add(doc, a), b), creator.id, { names: { [a.id]: NOW }, revokes: { [b.id]: NOW, [creator.id]: NOW } })
    const m = membershipOf(d)
    expect(m.statusOf(a.id)).toBe('referent')
    expect(m.statusOf(b.id)).toBe('revoked')
    expect(m.statusOf(creator.id)).toBe('referent') // the creator cannot be revoked
    const impostor = person()
    d = { ...d, members: { ...d.members, [person().id]: entry(impostor) } }
    expect(membershipOf(d).pending.size).toBe(0)
  })
})

describe('checkNeighbourhoodWrite', () => {
  const base = { documentId: N, now: NOW + 1000 }

  it('lets a creator make a neighbourhood, and nobody else', () => {
    const { creator, doc } = world()
    expect(checkNeighbourhoodWrite({ ...base, sender: creator.id, before: undefined, after: doc, paths: [] }).ok).toBe(true)
    expect(checkNeighbourhoodWrite({ ...base, sender: person().id, before: undefined, after: doc, paths: [] })).toMatchObject({ ok: false, reason: 'bad-creation' })
  })

  it('lets an invited newcomer add themselves, counting the use', () => {
    const { doc, add } = world()
    const ana = person()
    const after = add(doc, ana)
    const verdict = checkNeighbourhoodWrite({ ...base, sender: ana.id, before: doc, after, paths: [['members', ana.id]] })
    expect(verdict).toMatchObject({ ok: true, joined: { invitation: after.members[ana.id]!.invitation } })
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: doc, after, paths: [['members', ana.id]], usesLeft: () => false })).toMatchObject({ ok: false, reason: 'invitation-used-up' })
  })

  it('refuses a newcomer without a valid invitation', () => {
    const { doc, add, invite } = world()
    const ana = person()
    const paths = [['members', ana.id]]
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: doc, after: add(doc, ana, { invitation: undefined }), paths })).toMatchObject({ reason: 'not-invited' })
    expect(checkNeighbourhoodWrite({ ...base, now: NOW + 9 * 86_400_000, sender: ana.id, before: doc, after: add(doc, ana), paths })).toMatchObject({ reason: 'not-invited', detail: 'invitation expired' })
    // An invitation signed by someone who is not a référent.
    const bob = person()
    const withBob = add(doc, bob)
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: withBob, after: add(withBob, ana, { invitation: invite(bob) }), paths })).toMatchObject({ reason: 'not-invited' })
  })

  it('keeps every member to their own entry and role', () => {
    const { creator, doc, add } = world()
    const ana = person()
    const d = add(doc, ana)
    // Writing in someone else's entry, or at the top of the document.
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: d, after: edit(d, creator.id, { displayName: 'Moi' }), paths: [['members', creator.id, 'displayName']] })).toMatchObject({ reason: 'not-yours' })
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: d, after: { ...d, referents: [ana.id] }, paths: [['referents', 1]] })).toMatchObject({ reason: 'not-yours' })
    // A pending member vouching, naming or revoking.
    const someone = person().id
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: d, after: edit(d, ana.id, { vouches: { [someone]: NOW } }), paths: [['members', ana.id, 'vouches']] })).toMatchObject({ reason: 'pending-cannot-vouch' })
    const vouched = edit(d, creator.id, { vouches: { [ana.id]: NOW } })
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: vouched, after: edit(vouched, ana.id, { vouches: { [someone]: NOW } }), paths: [['members', ana.id, 'vouches']] }).ok).toBe(true)
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: vouched, after: edit(vouched, ana.id, { names: { [someone]: NOW } }), paths: [['members', ana.id, 'names']] })).toMatchObject({ reason: 'not-referent' })
    // Changing one's key.
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: d, after: edit(d, ana.id, { publicKey: encodeKey(person().keys.publicKey) }), paths: [['members', ana.id, 'publicKey']] })).toMatchObject({ ok: false })
  })

  it('refuses every write from a revoked member', () => {
    const { creator, doc, add } = world()
    const ana = person()
    const d = edit(add(doc, ana), creator.id, { revokes: { [ana.id]: NOW } })
    expect(checkNeighbourhoodWrite({ ...base, sender: ana.id, before: d, after: edit(d, ana.id, { displayName: 'Ana' }), paths: [['members', ana.id, 'displayName']] })).toMatchObject({ reason: 'cut-off' })
  })
})
