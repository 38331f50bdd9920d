import { describe, expect, it } from 'vitest'
import { foldText, processTerm, searchTerms, stem, tokenize } from './search-text.ts'

/** What a query and a text have in common once both are processed. */
const sameTerms = (a: string, b: string) => expect(searchTerms(a)).toEqual(searchTerms(b))

describe('foldText', () => {
  it('folds case, accents and ligatures', () => {
    expect(foldText('Œuf à la CRÈME, Ça GÂTEAU')).toBe('oeuf a la creme, ca gateau')
    expect(foldText('Ægir Straße')).toBe('aegir strasse')
  })
})

describe('tokenize', () => {
  it('lowercases and splits on spaces, punctuation, apostrophes (both kinds) and hyphens, keeping accents', () => {
    expect(tokenize("L'outil d’Hélène — porte-fenêtre, 10h30 !")).toEqual(['l', 'outil', 'd', 'hélène', 'porte', 'fenêtre', '10h30'])
  })
  it('keeps a word whole when its accents come as combining marks', () => {
    expect(tokenize('cre\u0300me brûle\u0301e')).toEqual(['crème', 'brûlée'])
  })
  it('gives nothing for punctuation alone', () => {
    expect(tokenize(' … !? ')).toEqual([])
  })
})

describe('stem: singular and plural meet', () => {
  it.each([
    ['perceuses', 'perceuse'],
    ['jardins', 'jardin'],
    ['gateaux', 'gateau'],
    ['chevaux', 'cheval'],
    ['animaux', 'animal'],
    ['travaux', 'travail'],
    ['details', 'detail'],
    ['tuyaux', 'tuyau'],
    ['jeux', 'jeu'],
    ['bijoux', 'bijou'],
    ['drills', 'drill'],
    ['lessons', 'lesson'],
  ])('%s ↔ %s', (plural, singular) => {
    expect(stem(plural)).toBe(stem(singular))
  })

  it('keeps a double s, a final us and short words', () => {
    expect(stem('express')).toBe('express')
    expect(stem('virus')).toBe('virus')
    expect(stem('bus')).toBe('bus')
    expect(stem('jus')).toBe('jus')
  })

  it('does not merge different words', () => {
    expect(stem('perceuse')).not.toBe(stem('perce'))
    expect(stem('mail')).not.toBe(stem('mal'))
    expect(stem('jardin')).not.toBe(stem('jardinage'))
  })
})

describe('processTerm', () => {
  it('drops French and English stop words, whatever their case and accents', () => {
    for (const w of ['le', 'La', 'LES', 'de', 'du', 'des', 'un', 'une', 'et', 'à', 'À', 'au', 'aux', 'pour', 'avec', 'dans', 'mes', 'vous', 'cette', 'qui', 'que', 'l', 'd', 'y'])
      expect(processTerm(w), w).toBeNull()
    for (const w of ['the', 'The', 'a', 'an', 'and', 'of', 'to', 'for', 'in', 'on', 'with']) expect(processTerm(w), w).toBeNull()
  })
  it('keeps words that only look like stop words', () => {
    expect(processTerm('lait')).toBe('lait')
    expect(processTerm('thé')).toBe('the')
    expect(processTerm('mai')).toBe('mai')
  })
})

describe('searchTerms', () => {
  it('turns a sentence into its meaningful stems', () => {
    expect(searchTerms('Je prête ma perceuse à Hélène pour les travaux')).toEqual(['prete', 'perceuse', 'helene', 'traval'])
  })
  it('matches the singular with the plural across a phrase', () => {
    sameTerms('des perceuses', 'une perceuse')
    sameTerms('Gâteaux et jardins', 'gateau jardin')
    sameTerms('les chevaux', 'le cheval')
    sameTerms('drills for the garden', 'a drill garden')
  })
  it('finds a word after an elision', () => {
    expect(searchTerms("l'outil d'Hélène")).toEqual(['outil', 'helene'])
  })
  it('is empty for stop words alone, so the board shows everything', () => {
    expect(searchTerms('de la')).toEqual([])
    expect(searchTerms('  ')).toEqual([])
  })
})
