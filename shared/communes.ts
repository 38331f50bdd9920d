/**
 * French communes, for choosing a neighbourhood's commune offline by postcode or name.
 * The data ship with the app (built from @etalab/decoupage-administratif by scripts/communes.ts);
 * this file only searches them.
 */
export interface CommuneEntry {
  insee: string
  name: string
  postcodes: string[]
}

/** A commune with its folded name, ready to search. */
export interface IndexedCommune extends CommuneEntry {
  key: string
}

/** Folds case and accents, and treats hyphens and apostrophes as spaces: "Saint-Étienne" → "saint etienne". */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[-'’]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\bste\b/g, 'sainte')
    .replace(/\bst\b/g, 'saint')
}

/** Decodes the compact form written by `encodeCommunes`. */
export function decodeCommunes(packed: string): IndexedCommune[] {
  if (!packed) return []
  return packed.split('\n').map((line) => {
    const [insee = '', name = '', codes = ''] = line.split('|')
    return { insee, name, postcodes: codes ? codes.split(' ') : [], key: fold(name) }
  })
}

/** One line per commune: `insee|name|postcode postcode…`. About a quarter of the size of the JSON. */
export function encodeCommunes(list: readonly CommuneEntry[]): string {
  return list.map((c) => `${c.insee}|${c.name}|${c.postcodes.join(' ')}`).join('\n')
}

export interface CommuneMatch {
  insee: string
  name: string
  postcode: string
}

/**
 * Finds communes by postcode (digits: prefix match) or by name (accent-insensitive; names that start
 * with the query first). Each (commune, postcode) pair is one match, so a commune with several postcodes
 * can be told apart.
 */
export function searchCommunes(list: readonly IndexedCommune[], query: string, limit = 20): CommuneMatch[] {
  const q = query.trim()
  if (!q) return []
  if (/^\d{1,5}$/.test(q)) {
    const out: CommuneMatch[] = []
    for (const c of list) {
      for (const pc of c.postcodes) if (pc.startsWith(q)) out.push({ insee: c.insee, name: c.name, postcode: pc })
    }
    out.sort((a, b) => a.postcode.localeCompare(b.postcode) || a.name.localeCompare(b.name, 'fr'))
    return out.slice(0, limit)
  }
  const f = fold(q)
  if (f.length < 2) return []
  const starts: CommuneMatch[] = []
  const contains: CommuneMatch[] = []
  for (const c of list) {
    const bucket = c.key.startsWith(f) ? starts : c.key.includes(f) ? contains : undefined
    if (!bucket) continue
    for (const pc of c.postcodes) bucket.push({ insee: c.insee, name: c.name, postcode: pc })
  }
  const byName = (a: CommuneMatch, b: CommuneMatch) => a.name.localeCompare(b.name, 'fr') || a.postcode.localeCompare(b.postcode)
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit)
}
