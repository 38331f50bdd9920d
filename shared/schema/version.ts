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
 * A migration changes a document in place from `from` to `from + 1`, inside an Automerge change.
 * None exist yet (version 1 is the first); the list is here so the loader has one place to look.
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
