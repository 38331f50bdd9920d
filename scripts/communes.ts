/**
 * Build step: turns @etalab/decoupage-administratif's communes (8.6 MB of JSON) into the compact list
 * the app ships (current communes and municipal arrondissements, with their postcodes), served as a
 * virtual module so nothing generated is committed.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Plugin } from 'vite'
import { encodeCommunes, type CommuneEntry } from '../shared/communes.ts'

interface EtalabCommune {
  code: string
  nom: string
  type: string
  codesPostaux?: string[]
}

export function loadCommunes(): CommuneEntry[] {
  const require = createRequire(import.meta.url)
  const file = require.resolve('@etalab/decoupage-administratif/data/communes.json')
  const all = JSON.parse(readFileSync(file, 'utf8')) as EtalabCommune[]
  return all
    .filter((c) => (c.type === 'commune-actuelle' || c.type === 'arrondissement-municipal') && c.codesPostaux?.length)
    .map((c) => ({ insee: c.code, name: c.nom, postcodes: [...new Set(c.codesPostaux)] }))
}

const VIRTUAL_ID = 'virtual:placette-communes'
const RESOLVED_ID = '\0' + VIRTUAL_ID

/** `import packed from 'virtual:placette-communes'` gives the encoded list as a string. */
export function communesPlugin(): Plugin {
  return {
    name: 'placette-communes',
    resolveId: (id) => (id === VIRTUAL_ID ? RESOLVED_ID : undefined),
    load(id) {
      if (id !== RESOLVED_ID) return undefined
      return `export default ${JSON.stringify(encodeCommunes(loadCommunes()))}`
    },
  }
}
