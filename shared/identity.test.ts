import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey, generateMemberKeys, memberIdFor, sign, verify } from './identity.ts'
import { checkInvitation, createInvitation, readInvitation } from './invitation.ts'
import { ID_PATTERN, type MemberId } from './ids.ts'

const text = (s: string) => new TextEncoder().encode(s)

describe('member identity', () => {
  it('derives a member ID from the public key, in the same form as other member IDs', () => {
    const keys = generateMemberKeys()
    const id = memberIdFor(keys.publicKey)
    expect(id).toMatch(ID_PATTERN)
    expect(memberIdFor(keys.publicKey)).toBe(id)
    expect(memberIdFor(generateMemberKeys().publicKey)).not.toBe(id)
  })

  it('verifies a signature only for its purpose, message and key', () => {
    const keys = generateMemberKeys()
    const sig = sign('auth', text('nonce-1'), keys.secretKey)
    expect(verify('auth', text('nonce-1'), sig, keys.publicKey)).toBe(true)
    expect(verify('invitation', text('nonce-1'), sig, keys.publicKey)).toBe(false)
    expect(verify('auth', text('nonce-2'), sig, keys.publicKey)).toBe(false)
    expect(verify('auth', text('nonce-1'), sig, generateMemberKeys().publicKey)).toBe(false)
    expect(verify('auth', text('nonce-1'), sig.subarray(0, 10), keys.publicKey)).toBe(false)
  })

  it('encodes keys as text and refuses what is not a key', () => {
    const { publicKey } = generateMemberKeys()
    expect(decodeKey(encodeKey(publicKey))).toEqual(publicKey)
    expect(decodeKey('not a key!')).toBeUndefined()
    expect(decodeKey(encodeKey(publicKey.subarray(0, 16)))).toBeUndefined()
  })
})

describe('invitations', () => {
  const referent = generateMemberKeys()
  const referentId = memberIdFor(referent.publicKey)
  const member = generateMemberKeys()
  const memberId = memberIdFor(member.publicKey)
  const n = '2j9knpCseyhnK8izDmLpGP5WMdZQ'
  const registry = {
    publicKeyOf: (id: MemberId) => (id === referentId ? referent.publicKey : id === memberId ? member.publicKey : undefined),
    isReferent: (id: MemberId) => id === referentId,
  }
  const now = 1_800_000_000_000

  it('accepts a référent’s invitation until it expires', () => {
    const token = createInvitation({ neighbourhood: n, by: referentId, validDays: 30, uses: 10, now }, referent.secretKey)
    expect(checkInvitation(token, n, registry, now)).toMatchObject({ ok: true, invitation: { uses: 10, by: referentId } })
    expect(checkInvitation(token, n, registry, now + 31 * 24 * 3600 * 1000)).toEqual({ ok: false, reason: 'expired' })
  })

  it('refuses a forged, altered, foreign or non-référent invitation', () => {
    const token = createInvitation({ neighbourhood: n, by: referentId, validDays: 30, uses: 1, now }, referent.secretKey)
    const { invitation } = readInvitation(token)
    const altered = `${Buffer.from(JSON.stringify({ ...invitation, uses: 500 })).toString('base64url')}.${token.split('.')[1]}`
    expect(checkInvitation(altered, n, registry, now)).toEqual({ ok: false, reason: 'forged' })
    const signedByOther = createInvitation({ neighbourhood: n, by: referentId, validDays: 30, uses: 1, now }, member.secretKey)
    expect(checkInvitation(signedByOther, n, registry, now)).toEqual({ ok: false, reason: 'forged' })
    const byMember = createInvitation({ neighbourhood: n, by: memberId, validDays: 30, uses: 1, now }, member.secretKey)
    expect(checkInvitation(byMember, n, registry, now)).toEqual({ ok: false, reason: 'not-referent' })
    expect(checkInvitation(token, '3j9knpCseyhnK8izDmLpGP5WMdZQ', registry, now)).toEqual({ ok: false, reason: 'other-neighbourhood' })
    expect(() => checkInvitation('garbage', n, registry, now)).toThrow('damaged invitation')
    expect(() => checkInvitation('a.b', n, registry, now)).toThrow('damaged invitation')
  })

  it('bounds uses and validity', () => {
    const token = createInvitation({ neighbourhood: n, by: referentId, validDays: 9999, uses: 1e6, now }, referent.secretKey)
    const { invitation } = readInvitation(token)
    expect(invitation.uses).toBe(500)
    expect(invitation.exp - now).toBe(366 * 24 * 3600 * 1000)
  })
})
