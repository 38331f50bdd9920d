import { describe, expect, it } from 'vitest'
import { generateMemberKeys, memberIdFor } from './identity.ts'
import { conversationKey, open, seal } from './sealed.ts'

describe('private messages', () => {
  const alice = generateMemberKeys()
  const bob = generateMemberKeys()
  const eve = generateMemberKeys()
  const [a, b, e] = [alice, bob, eve].map((k) => memberIdFor(k.publicKey))

  it('both members derive the same key and read each other', () => {
    const kA = conversationKey(alice.secretKey, bob.publicKey, a!, b!)
    const kB = conversationKey(bob.secretKey, alice.publicKey, b!, a!)
    expect(kA).toEqual(kB)
    const sealed = seal(kA, 'Je passe à 10 h, code du portail 1234')
    expect(new TextDecoder().decode(sealed.box)).not.toContain('1234')
    expect(open(kB, sealed)).toBe('Je passe à 10 h, code du portail 1234')
  })

  it('a third member cannot open it, and a tampered message is refused', () => {
    const kA = conversationKey(alice.secretKey, bob.publicKey, a!, b!)
    const kE = conversationKey(eve.secretKey, alice.publicKey, e!, a!)
    const sealed = seal(kA, 'privé')
    expect(() => open(kE, sealed)).toThrow('cannot be opened')
    const tampered = { ...sealed, box: sealed.box.map((x, i) => (i === 0 ? x ^ 1 : x)) }
    expect(() => open(kA, tampered)).toThrow('cannot be opened')
  })

  it('uses a fresh nonce for every message', () => {
    const k = conversationKey(alice.secretKey, bob.publicKey, a!, b!)
    expect(seal(k, 'x').nonce).not.toEqual(seal(k, 'x').nonce)
  })
})
