import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PARAMS,
  activeFilterCount,
  boardSearchParams,
  isOpenNeed,
  matchesFilters,
  nearestFirst,
  parseBoardParams,
  promotedThemes,
  type BoardFilters,
} from './board-query.ts'
import type { PostRow } from './projector.ts'
import type { DocUrl, MemberId, PostId } from './ids.ts'

const postRow = (id: string, fields: Partial<PostRow> = {}): PostRow => ({
  id: id as PostId,
  neighbourhood: 'automerge:n' as DocUrl,
  feed: 'automerge:f' as DocUrl,
  author: 'm' as MemberId,
  kind: 'request',
  category: 'other',
  title: id,
  body: '',
  createdAt: 1_000,
  updatedAt: 1_000,
  themes: [],
  status: 'open',
  accepted: [],
  acceptedAt: {},
  outcomes: {},
  ...fields,
})

const NOW = 1_000_000
const any: BoardFilters = { kind: '', category: '', theme: '', status: 'all' }

const open = postRow('open', { createdAt: 5 })
const inProgress = postRow('in-progress', { acceptedAt: { helper: 10 }, accepted: ['helper' as MemberId] })
const done = postRow('done', { status: 'done' })
const cancelled = postRow('cancelled', { status: 'cancelled' })
const expired = postRow('expired', { expiresAt: NOW - 1 })
const all = [open, inProgress, done, cancelled, expired]
const kept = (filters: Partial<BoardFilters>) => all.filter((p) => matchesFilters(p, { ...any, ...filters }, NOW)).map((p) => p.id)

describe('board filters', () => {
  it('show open and in-progress posts by default, closed ones on demand', () => {
    expect(kept({ status: DEFAULT_PARAMS.status })).toEqual(['open', 'in-progress'])
    expect(kept({ status: 'open' })).toEqual(['open'])
    expect(kept({ status: 'in-progress' })).toEqual(['in-progress'])
    expect(kept({ status: 'closed' })).toEqual(['done', 'cancelled', 'expired'])
    expect(kept({ status: 'all' })).toHaveLength(5)
  })
  it('keep one kind, category or theme', () => {
    const posts = [
      postRow('a', { kind: 'offer', category: 'diy', themes: ['canicule'] }),
      postRow('b', { kind: 'request', category: 'diy', themes: [] }),
      postRow('c', { kind: 'offer', category: 'pets', themes: ['canicule', 'ete'] }),
    ]
    const ids = (f: Partial<BoardFilters>) => posts.filter((p) => matchesFilters(p, { ...any, ...f }, NOW)).map((p) => p.id)
    expect(ids({ kind: 'offer' })).toEqual(['a', 'c'])
    expect(ids({ category: 'diy' })).toEqual(['a', 'b'])
    expect(ids({ theme: 'canicule' })).toEqual(['a', 'c'])
    expect(ids({ kind: 'offer', category: 'pets', theme: 'ete' })).toEqual(['c'])
  })
  it('count only the filters that differ from the default', () => {
    expect(activeFilterCount(DEFAULT_PARAMS)).toBe(0)
    expect(activeFilterCount({ ...DEFAULT_PARAMS, kind: 'offer', status: 'all' })).toBe(2)
  })
})

describe('open needs', () => {
  it('are requests that are open or in progress, not expired nor closed, nor offers', () => {
    expect(all.filter((p) => isOpenNeed(p, NOW)).map((p) => p.id)).toEqual(['open', 'in-progress'])
    expect(isOpenNeed(postRow('offer', { kind: 'offer' }), NOW)).toBe(false)
  })
})

describe('the address bar', () => {
  it('reads what it wrote', () => {
    const p = { ...DEFAULT_PARAMS, q: 'perceuse', kind: 'lend', theme: 'canicule', status: 'all' as const, order: 'near' as const }
    const written = Object.fromEntries(Object.entries(boardSearchParams(p)).filter(([, v]) => v !== undefined)) as Record<string, string>
    expect(written).toEqual({ q: 'perceuse', kind: 'lend', theme: 'canicule', status: 'all', order: 'near' })
    expect(parseBoardParams(written)).toEqual(p)
  })
  it('leaves the defaults out, so a plain board is a plain address', () => {
    expect(Object.values(boardSearchParams(DEFAULT_PARAMS)).every((v) => v === undefined)).toBe(true)
  })
  it('falls back to the defaults on unknown values', () => {
    expect(parseBoardParams({ kind: 'spaceship', category: '<script>', status: 'maybe', order: 'random', theme: ' Fête des voisins ' })).toEqual({
      ...DEFAULT_PARAMS,
      theme: 'fete-des-voisins',
    })
    expect(parseBoardParams({ kind: ['offer', 'lend'] }).kind).toBe('offer')
  })
})

describe('nearest first', () => {
  const here = { lat: 46.118, lon: 4.956 }
  it('orders by distance, posts without a place last, keeping the order among equals', () => {
    const far = postRow('far', { lat: 46.2, lon: 4.956 })
    const near = postRow('near', { lat: 46.12, lon: 4.956 })
    const near2 = postRow('near2', { lat: 46.12, lon: 4.956 })
    const nowhere = postRow('nowhere')
    const nowhere2 = postRow('nowhere2')
    const sorted = nearestFirst([nowhere, far, near2, nowhere2, near], here, (p) => p)
    expect(sorted.map((p) => p.id)).toEqual(['near2', 'near', 'far', 'nowhere', 'nowhere2'])
  })
})

describe('promoted themes', () => {
  it('lists every theme used, most used first, then by name, counting a post once', () => {
    expect(promotedThemes([['canicule', 'ete'], ['canicule'], ['ete', 'ete'], ['apero'], []])).toEqual([
      { theme: 'canicule', count: 2 },
      { theme: 'ete', count: 2 },
      { theme: 'apero', count: 1 },
    ])
  })
})
