import { describe, expect, it } from 'vitest'
import { createNeighbourhoodInputSchema, newNeighbourhood, validateNeighbourhood } from './neighbourhood.ts'
import { check } from '../validate.ts'
import { newMemberId, type DocUrl } from '../ids.ts'
import { readVersion, migrate } from './version.ts'
import { encodeKey, generateMemberKeys, memberIdFor } from '../identity.ts'

const feed = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
const commune = { insee: '01001', name: "L'Abergement-Clémenciat", postcode: '01400' }

describe('neighbourhood schema', () => {
  it('makes the creator the first référent and member', () => {
    const me = newMemberId()
    const doc = newNeighbourhood({ name: ' Le Bourg ', commune, creator: me, creatorName: 'Jeanne', creatorFeed: feed, now: 5 })
    expect(doc.name).toBe('Le Bourg')
    expect(doc.referents).toEqual([me])
    expect(doc.members[me]?.feed).toBe(feed)
    expect(validateNeighbourhood(doc).ok).toBe(true)
  })

  it('refuses a bad INSEE code and an empty name', () => {
    const doc = newNeighbourhood({ name: 'x', commune, creator: newMemberId(), creatorName: 'J', creatorFeed: feed, now: 5 })
    const result = validateNeighbourhood({ ...doc, name: '', commune: { ...commune, insee: '1' } })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.issues.map((i) => i.path).sort()).toEqual(['commune.insee', 'name'])
  })

  it('keeps the creator’s public key, and refuses one that is not a key', () => {
    const keys = generateMemberKeys()
    const me = memberIdFor(keys.publicKey)
    const doc = newNeighbourhood({ name: 'x', commune, creator: me, creatorName: 'J', creatorFeed: feed, creatorKey: encodeKey(keys.publicKey), now: 5 })
    expect(validateNeighbourhood(doc).ok).toBe(true)
    expect(doc.members[me]?.publicKey).toBe(encodeKey(keys.publicKey))
    const bad = { ...doc, members: { [me]: { ...doc.members[me]!, publicKey: 'not-a-key' } } }
    expect(validateNeighbourhood(bad).ok).toBe(false)
  })

  it('accepts Corsican INSEE codes', () => {
    const doc = newNeighbourhood({ name: 'x', commune: { insee: '2A004', name: 'Ajaccio', postcode: '20000' }, creator: newMemberId(), creatorName: 'J', creatorFeed: feed, now: 5 })
    expect(validateNeighbourhood(doc).ok).toBe(true)
  })
})

describe('schema versions', () => {
  it('tells current, older, newer and missing versions apart', () => {
    expect(readVersion({ schemaVersion: 1 })).toBe('current')
    expect(readVersion({ schemaVersion: 0 })).toBe('older')
    expect(readVersion({ schemaVersion: 7 })).toBe('newer')
    expect(readVersion({})).toBe('missing')
  })

  it('runs migrations in order from the document version', () => {
    const doc = { schemaVersion: 1, steps: [] as number[] }
    const ran = migrate(doc, [
      { from: 2, migrate: (d) => d.steps.push(2) },
      { from: 1, migrate: (d) => d.steps.push(1) },
    ])
    expect(ran).toBe(2)
    expect(doc).toEqual({ schemaVersion: 3, steps: [1, 2] })
  })
})

describe('the create-a-neighbourhood form', () => {
  const good = { name: ' Le Bourg ', displayName: 'Odile', commune: { insee: '01001', name: 'L’Abergement-Clémenciat', postcode: '01400' } }

  it('accepts a commune of the list and trims the names', () => {
    const r = check(createNeighbourhoodInputSchema, good)
    expect(r.ok && r.value.name).toBe('Le Bourg')
  })

  it('refuses a made-up commune, a blank name and a name too long, field by field', () => {
    const r = check(createNeighbourhoodInputSchema, { name: '   ', displayName: 'x'.repeat(61), commune: { insee: '99', name: 'Nulle part', postcode: 'ABCDE' } })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(Object.fromEntries(r.issues.map((i) => [i.path, i.code]))).toEqual({
      name: 'required',
      displayName: 'too-long',
      'commune.insee': 'not-allowed',
      'commune.postcode': 'not-allowed',
    })
  })
})
