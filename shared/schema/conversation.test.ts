import { describe, expect, it } from 'vitest'
import { generateMemberKeys, memberIdFor } from '../identity.ts'
import { conversationKey } from '../sealed.ts'
import { conversationLocator, newConversation, openEntry, sealEntry, validateConversation } from './conversation.ts'
import type { DocUrl } from '../ids.ts'

const person = () => {
  const keys = generateMemberKeys()
  return { keys, id: memberIdFor(keys.publicKey) }
}

describe('conversations', () => {
  it('seal for two: both open it and find the same locator, a third member opens nothing', () => {
    const [a, b, c] = [person(), person(), person()]
    const ab = conversationKey(a.keys.secretKey, b.keys.publicKey, a.id, b.id)
    const ba = conversationKey(b.keys.secretKey, a.keys.publicKey, b.id, a.id)
    expect(conversationLocator(ab)).toBe(conversationLocator(ba))
    const entry = sealEntry(ab, a.id, 'Je passe à 18 h', 1)
    expect(entry.box).not.toContain('18 h')
    expect(openEntry(ba, entry)).toBe('Je passe à 18 h')
    const ca = conversationKey(c.keys.secretKey, a.keys.publicKey, c.id, a.id)
    expect(openEntry(ca, entry)).toBeUndefined()
    expect(conversationLocator(ca)).not.toBe(conversationLocator(ab))
    // A tampered box does not open.
    expect(openEntry(ba, { ...entry, box: entry.box.slice(0, -2) + (entry.box.endsWith('A') ? 'BB' : 'AA') })).toBeUndefined()
  })

  it('validates the document, keeping the two members sorted', () => {
    const [a, b] = [person(), person()]
    const doc = newConversation('automerge:2VqxRMeaSnHUVbLaX2bC7ZS6kD7e' as DocUrl, b.id, a.id)
    expect(doc.members).toEqual([a.id, b.id].sort())
    expect(validateConversation(doc).ok).toBe(true)
    expect(validateConversation({ ...doc, members: [a.id] }).ok).toBe(false)
  })
})
