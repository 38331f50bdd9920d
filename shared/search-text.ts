/**
 * Text processing for search, French first: the same steps run on what is indexed and on what a person
 * types, so "Perceuses" finds "perceuse", "chevaux" finds "cheval" and "l'outil" finds "outil".
 * Pure functions, used by the client's search index (MiniSearch's `tokenize` and `processTerm`).
 */

/**
 * Lowercases and strips accents, ligatures included: "Œuf à la CRÈME" → "oeuf a la creme".
 * (`fold` in communes.ts does more for place names: hyphens and "St" → "saint".)
 */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/ß/g, 'ss')
}

/**
 * Lowercases and splits on everything that is not a letter or a digit: spaces, punctuation, apostrophes,
 * hyphens. Accents stay until `processTerm`, so that "thé" is not taken for the stop word "the".
 */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{M}\p{N}]+/u)
    .filter(Boolean)
}

/**
 * Words too common to help, lowercase with their accents. French, with the elided forms that `tokenize`
 * leaves behind ("l'outil" → "l", "outil"; "qu'il" → "qu", "il"), then English. The plain "a" is both
 * "a" (has) and the English article; "à" is written both ways since people often type it without accent.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  // French
  'le', 'la', 'les', 'de', 'du', 'des', 'un', 'une', 'et', 'à', 'a', 'au', 'aux', 'pour', 'en', 'sur', 'avec', 'dans',
  'mon', 'ma', 'mes', 'ton', 'ta', 'tes', 'son', 'sa', 'ses',
  'je', 'tu', 'il', 'elle', 'on', 'nous', 'vous', 'ils', 'elles', 'ce', 'cette', 'ces', 'qui', 'que',
  'c', 'd', 'j', 'l', 'm', 'n', 'qu', 's', 't', 'y',
  // English ("a", "on" are above)
  'the', 'an', 'and', 'of', 'to', 'for', 'in', 'with',
])

/**
 * A light plural stemmer: singular and plural of the same word give the same stem. It is not a
 * dictionary: the stem need not be a word ("travaux" and "travail" both give "traval"), it only has
 * to be the same on both sides. Expects a folded word.
 * - gâteaux → gateau, tuyaux → tuyau, jeux → jeu, bijoux → bijou (x after eau, yau, eu, ou is dropped)
 * - chevaux → cheval, animaux → animal; travaux, travail → traval (aux and ail → al, long words only)
 * - perceuses → perceuse, jardins → jardin, drills → drill (a final s is dropped, not ss nor us:
 *   "express", "virus" keep theirs; words of three letters or fewer are left alone)
 */
export function stem(word: string): string {
  if (word.length < 4) return word
  if (/(?:eau|yau|eu|ou)x$/.test(word)) return word.slice(0, -1)
  if (word.length >= 5 && word.endsWith('aux')) return `${word.slice(0, -3)}al`
  if (word.endsWith('aux')) return word.slice(0, -1)
  let w = word
  if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) w = w.slice(0, -1)
  if (w.length >= 6 && w.endsWith('ail')) w = `${w.slice(0, -3)}al`
  return w
}

/** Terms already processed: a board of 10,000 posts has 150,000 words but only a few thousand distinct ones. */
const processed = new Map<string, string | null>()
/** Enough for any neighbourhood's vocabulary; past it the memo starts again rather than growing without bound. */
const PROCESSED_MAX = 50_000

/** One token to its indexed form (folded, stemmed), or `null` for a stop word. Expects the output of `tokenize`. */
export function processTerm(term: string): string | null {
  const known = processed.get(term)
  if (known !== undefined) return known
  const lower = term.normalize('NFC').toLowerCase()
  const out = !lower || STOP_WORDS.has(lower) ? null : stem(foldText(lower))
  if (processed.size >= PROCESSED_MAX) processed.clear()
  processed.set(term, out)
  return out
}

/** The terms a query searches for, in order; empty when it holds only stop words and punctuation. */
export function searchTerms(text: string): string[] {
  return tokenize(text)
    .map(processTerm)
    .filter((t): t is string => t !== null)
}
