import type * as A from '@automerge/automerge'
import { checkFeed, type FeedCheck } from '../../shared/signed-changes.ts'
import { memberIdFor } from '../../shared/identity.ts'
import { registryOf } from '../../shared/membership.ts'
import { docIdOf, type DocUrl, type MemberId } from '../../shared/ids.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { FeedCheckRow, PlacetteDb } from '../db/db.ts'

interface Owner {
  id: MemberId
  neighbourhood: DocUrl
  /** Undefined for a registry entry without a key (then only unsigned, legacy changes can be valid). */
  publicKey: Uint8Array | undefined
}

/**
 * Each feed's signature check (shared/signed-changes.ts) against its owner's key from the
 * neighbourhood's registry. The last check of each feed is kept in memory and in Dexie, so a change,
 * and a cold start, verify only the changes that arrived since.
 */
export class FeedChecks {
  readonly #db: PlacetteDb
  readonly #owners = new Map<DocUrl, Owner>()
  readonly #checks = new Map<DocUrl, FeedCheck>()

  constructor(db: PlacetteDb) {
    this.#db = db
  }

  /** Learns each member's feed and key from a neighbourhood's registry. */
  learnRegistry(url: DocUrl, doc: NeighbourhoodDoc): void {
    const registry = registryOf(doc)
    for (const [id, entry] of Object.entries(doc.members ?? {})) {
      const key = registry.publicKeyOf(id as MemberId)
      // A key that is not the member's own (IDs derive from keys) vouches for nothing.
      const publicKey = key && memberIdFor(key) === id ? key : undefined
      this.#owners.set(entry.feed, { id: id as MemberId, neighbourhood: url, publicKey })
    }
  }

  /** Whether the feed's owner is known, so it can be checked. */
  knows(url: DocUrl): boolean {
    return this.#owners.has(url)
  }

  /** The feed's last check on this device, if any. */
  last(url: DocUrl): FeedCheck | undefined {
    return this.#checks.get(url)
  }

  /** Checks what is new in the feed; undefined while its owner is unknown. */
  async check(url: DocUrl, doc: A.Doc<unknown>): Promise<FeedCheck | undefined> {
    const owner = this.#owners.get(url)
    if (!owner) return undefined
    let since = this.#checks.get(url)
    if (!since) {
      const stored = await this.#db.feedChecks.get(url)
      if (stored?.owner === owner.id) since = { heads: stored.heads, invalid: stored.invalid, signed: stored.signed, verified: 0 }
    }
    const check = checkFeed(doc, { documentId: docIdOf(url), publicKey: owner.publicKey, since })
    this.#checks.set(url, check)
    if (!since || !sameCheck(since, check)) {
      const row: FeedCheckRow = { url, owner: owner.id, neighbourhood: owner.neighbourhood, heads: check.heads, invalid: check.invalid, signed: check.signed }
      await this.#db.feedChecks.put(row)
    }
    return check
  }

  /** A member left and their feed is erased: so is what was checked of it. */
  async forget(url: DocUrl): Promise<void> {
    this.#checks.delete(url)
    await this.#db.feedChecks.delete(url)
  }
}

function sameCheck(a: FeedCheck, b: FeedCheck): boolean {
  return a.signed === b.signed && a.heads.join() === b.heads.join() && a.invalid.join() === b.invalid.join()
}
