/**
 * Generated documents are slow to build (Automerge makes one change per action, as the app does:
 * about 20 s for a 10,000-post board here), so they are kept in .tmp/bench-cache, keyed by the
 * generator's options and the source of everything that shapes them (generator, schemas, Automerge).
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const DIR = join(ROOT, '.tmp', 'bench-cache')
const SOURCES = ['bench/generate.ts', 'shared/domain.ts', 'shared/ids.ts', 'shared/validate.ts', 'shared/signed-changes.ts', 'shared/identity.ts', 'node_modules/@automerge/automerge/package.json', 'node_modules/yjs/package.json']

function sourcesHash(): string {
  const hash = createHash('sha256')
  const files = [...SOURCES, ...readdirSync(join(ROOT, 'shared/schema')).map((f) => `shared/schema/${f}`)]
  for (const f of files.sort()) {
    hash.update(f)
    try {
      hash.update(readFileSync(join(ROOT, f)))
    } catch {
      hash.update('missing')
    }
  }
  return hash.digest('hex')
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json } | Uint8Array

const encode = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $b: Buffer.from(v).toString('base64') } : v instanceof Map ? { $m: [...v.entries()] } : v))
const decode = (text: string): unknown =>
  JSON.parse(text, (_k, v: Json) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      if (typeof v.$b === 'string') return new Uint8Array(Buffer.from(v.$b, 'base64'))
      if (Array.isArray(v.$m)) return new Map(v.$m as [unknown, unknown][])
    }
    return v
  })

/** `build()`'s result, from the cache when the same key and sources built it before. Maps and bytes survive. */
export function cached<T>(name: string, options: unknown, build: () => T): T {
  const key = createHash('sha256').update(sourcesHash()).update(JSON.stringify(options)).digest('hex').slice(0, 16)
  const file = join(DIR, `${name}-${key}.json`)
  try {
    return decode(readFileSync(file, 'utf8')) as T
  } catch {
    const value = build()
    mkdirSync(DIR, { recursive: true })
    writeFileSync(file, encode(value))
    return value
  }
}
