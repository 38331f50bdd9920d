/**
 * Build step: turns @etalab/decoupage-administratif's communes (8.6 MB of JSON) into the compact list
 * the app ships (current communes and municipal arrondissements, with their postcodes), served as a
 * text file whose URL a virtual module gives, so nothing generated is committed.
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
/** Where the dev server serves the list (a build emits `assets/communes-<hash>.txt`). */
const DEV_PATH = '/@placette/communes.txt'

/**
 * `import communesUrl from 'virtual:placette-communes'` gives the URL of the encoded list, a text file
 * fetched when needed: not a module, so that a fetch that failed offline can simply be tried again
 * (a failed dynamic `import()` stays failed for the page's lifetime in Chromium).
 */
export function communesPlugin(): Plugin {
  let packed: string | undefined
  const list = () => (packed ??= encodeCommunes(loadCommunes()))
  let serving = false
  return {
    name: 'placette-communes',
    configResolved(config) {
      serving = config.command === 'serve'
    },
    configureServer(server) {
      server.middlewares.use(DEV_PATH, (_req, res) => {
        res.setHeader('Content-Type', 'text/plain; charset=utf-8')
        res.end(list())
      })
    },
    resolveId: (id) => (id === VIRTUAL_ID ? RESOLVED_ID : undefined),
    load(id) {
      if (id !== RESOLVED_ID) return undefined
      if (serving) return `export default ${JSON.stringify(DEV_PATH)}`
      const ref = this.emitFile({ type: 'asset', name: 'communes.txt', source: list() })
      return `export default import.meta.ROLLUP_FILE_URL_${ref}`
    },
  }
}
