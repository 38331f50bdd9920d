/**
 * Schema versions. Documents outlive app versions: every document carries `schemaVersion`.
 * A client reads documents of its own version and older ones (migrating them on load) and shows a
 * newer one as well as it can, without rewriting fields it does not understand.
 */
export const CURRENT_SCHEMA_VERSION = 1

export type VersionStatus = 'current' | 'older' | 'newer' | 'missing'

export function readVersion(doc: unknown): VersionStatus {
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion
  if (typeof version !== 'number' || !Number.isInteger(version)) return 'missing'
  if (version === CURRENT_SCHEMA_VERSION) return 'current'
  return version < CURRENT_SCHEMA_VERSION ? 'older' : 'newer'
}

/**
 * A migration changes a document in place from `from` to `from + 1`. None exist yet (version 1 is the
 * first); each schema keeps its list next to its validator (FEED_MIGRATIONS, …), so every reader runs
 * them on load through `readAsCurrent`, and the owner's device writes them into its own feed.
 */
export interface Migration<D> {
  from: number
  migrate(doc: D): void
}

/** Applies every migration needed to bring `doc` to the current version; returns how many ran. */
export function migrate<D extends { schemaVersion: number }>(doc: D, migrations: readonly Migration<D>[]): number {
  let ran = 0
  for (const m of [...migrations].sort((a, b) => a.from - b.from)) {
    if (doc.schemaVersion === m.from) {
      m.migrate(doc)
      doc.schemaVersion = m.from + 1
      ran++
    }
  }
  return ran
}

/**
 * What a reader sees of a document: an older one is migrated on a plain copy (the stored document is
 * left alone: most documents here belong to someone else, and only their owner may rewrite them);
 * current and newer ones come back as they are.
 */
export function readAsCurrent(doc: unknown, migrations: readonly Migration<never>[]): unknown {
  if (migrations.length === 0 || readVersion(doc) !== 'older') return doc
  const copy = plainCopy(doc) as { schemaVersion: number }
  migrate(copy, migrations as readonly Migration<{ schemaVersion: number }>[])
  return copy
}

/** A deep copy of plain objects and arrays (Automerge's read-only views); other values are shared. */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy)
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainCopy(v)]))
}
