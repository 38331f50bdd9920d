import { next as A } from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { newFeed, validateFeed, type FeedDoc } from './feed.ts'
import { newNeighbourhood, validateNeighbourhood, type NeighbourhoodDoc } from './neighbourhood.ts'
import { migrate, readAsCurrent, type Migration } from './version.ts'
import { newMemberId, type DocUrl } from '../ids.ts'

// Version 1 is the first schema, so no real migration exists yet. These tests stand in a "version 0"
// that stored posts under `items` and run it through the same paths a real one will take.
type Entries = Record<string, Record<string, unknown>>
type OldFeed = Record<string, unknown> & { schemaVersion: number; items?: Entries; posts?: Entries }
const itemsToPosts: Migration<FeedDoc> = {
  from: 0,
  migrate(d) {
    // Automerge cannot move an object: the migration copies the entries into the new map.
    const old = d as unknown as OldFeed
    old.posts = {}
    for (const [id, post] of Object.entries(old.items ?? {})) old.posts[id] = { ...post, title: new A.ImmutableString(String(post.title)) as never }
    delete old.items
  },
}
const url = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
const oldFeed = (): OldFeed => {
  const { posts, ...rest } = newFeed(url, newMemberId())
  return { ...rest, schemaVersion: 0, items: { ...(posts as unknown as Entries), p1: { id: 'p1', title: new A.ImmutableString('Prête une perceuse') } } }
}

describe('migrations on load', () => {
  it('a reader sees an older feed migrated and leaves the stored document as it was', () => {
    const doc = A.from<OldFeed>(oldFeed())
    const before = A.save(doc)
    expect(validateFeed(doc, []).ok).toBe(false) // not migrated: refused as version 0
    const checked = validateFeed(doc, [itemsToPosts])
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    expect(checked.value.schemaVersion).toBe(1)
    expect(Object.keys(checked.value.posts)).toEqual(['p1'])
    expect(String((checked.value.posts as unknown as Entries).p1!.title)).toBe('Prête une perceuse')
    expect(A.save(doc)).toEqual(before)
  })

  it('the owner writes the migration into its own feed, once', () => {
    let doc = A.from<OldFeed>(oldFeed())
    doc = A.change(doc, (d) => void migrate(d as unknown as FeedDoc, [itemsToPosts]))
    expect(doc.schemaVersion).toBe(1)
    expect(Object.keys(doc.posts ?? {})).toEqual(['p1'])
    expect(doc.items).toBeUndefined()
    const heads = A.getHeads(doc)
    doc = A.change(doc, (d) => void migrate(d as unknown as FeedDoc, [itemsToPosts]))
    expect(A.getHeads(doc)).toEqual(heads) // nothing left to run: no change
  })

  it('current and newer documents are read as they are, not copied', () => {
    const n = newNeighbourhood({ name: 'Placette', commune: { insee: '01001', name: "L'Abergement-Clémenciat", postcode: '01400' }, creator: newMemberId(), creatorName: 'Anne', creatorFeed: url, now: 5 })
    expect(readAsCurrent(n, [itemsToPosts as Migration<never>])).toBe(n)
    const newer = { ...n, schemaVersion: 2 } as NeighbourhoodDoc
    expect(readAsCurrent(newer, [itemsToPosts as Migration<never>])).toBe(newer)
    expect(validateNeighbourhood(newer).ok).toBe(true)
  })
})
