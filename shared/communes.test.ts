import { describe, expect, it } from 'vitest'
import { decodeCommunes, encodeCommunes, fold, searchCommunes } from './communes.ts'

const list = decodeCommunes(
  encodeCommunes([
    { insee: '42218', name: 'Saint-Étienne', postcodes: ['42000', '42100'] },
    { insee: '01001', name: "L'Abergement-Clémenciat", postcodes: ['01400'] },
    { insee: '01093', name: 'Châtillon-sur-Chalaronne', postcodes: ['01400'] },
    { insee: '75056', name: 'Paris', postcodes: [] },
  ]),
)

describe('communes', () => {
  it('folds accents, case, hyphens and "St"', () => {
    expect(fold('Saint-Étienne')).toBe('saint etienne')
    expect(fold("St Étienne")).toBe('saint etienne')
  })

  it('finds every commune of a postcode', () => {
    expect(searchCommunes(list, '01400').map((c) => c.insee)).toEqual(['01093', '01001'])
  })

  it('finds a commune by a name typed without accents, once per postcode', () => {
    expect(searchCommunes(list, 'st etienne')).toEqual([
      { insee: '42218', name: 'Saint-Étienne', postcode: '42000' },
      { insee: '42218', name: 'Saint-Étienne', postcode: '42100' },
    ])
  })

  it('puts names that start with the query before names that contain it', () => {
    expect(searchCommunes(list, 'cha').map((c) => c.insee)).toEqual(['01093'])
    expect(searchCommunes(list, 'ment').map((c) => c.insee)).toEqual(['01001'])
  })

  it('returns nothing for an empty or one-letter query', () => {
    expect(searchCommunes(list, '')).toEqual([])
    expect(searchCommunes(list, 'a')).toEqual([])
  })
})
