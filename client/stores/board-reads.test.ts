import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDb, type BoardPost, type PlacetteDb } from '../db/db.ts'
import { DEFAULT_PARAMS, type BoardParams } from '../../shared/board-query.ts'
import type { DocUrl } from '../../shared/ids.ts'
import { browse, newestMatching, openNeeds, themesInUse } from './board-reads.ts'
import { NEIGHBOURHOOD, postRow } from './test-rows.ts'

const NOW = 10_000_000
let db: PlacetteDb
let name = 0

beforeEach(async () => {
  db = openDb(`board-reads-${++name}`)
  await db.open()
})
afterEach(async () => {
  db.close()
  await db.delete()
})

const put = (rows: ReturnType<typeof postRow>[]) => db.posts.bulkPut(rows.map((r): BoardPost => ({ ...r, pending: false })))
const params = (p: Partial<BoardParams> = {}): BoardParams => ({ ...DEFAULT_PARAMS, ...p })
const ids = (rows: { id: string }[]) => rows.map((r) => r.id)

describe('browse: the board without words to search', () => {
  it('pages newest first, 30 at a time, and says when there is more', async () => {
    await put(Array.from({ length: 70 }, (_, i) => postRow(`p${i}`, { createdAt: i })))
    const first = await browse(db, NEIGHBOURHOOD, { params: params(), limit: 30 }, NOW)
    expect(ids(first.posts)).toEqual(Array.from({ length: 30 }, (_, i) => `p${69 - i}`))
    expect(first.hasMore).toBe(true)
    const all = await browse(db, NEIGHBOURHOOD, { params: params(), limit: 90 }, NOW)
    expect(all.posts).toHaveLength(70)
    expect(all.hasMore).toBe(false)
  })

  it('leaves out closed posts by default, shows them on demand', async () => {
    await put([postRow('open', { createdAt: 3 }), postRow('done', { status: 'done', createdAt: 2 }), postRow('expired', { expiresAt: NOW - 1, createdAt: 1 })])
    expect(ids((await browse(db, NEIGHBOURHOOD, { params: params(), limit: 30 }, NOW)).posts)).toEqual(['open'])
    expect(ids((await browse(db, NEIGHBOURHOOD, { params: params({ status: 'all' }), limit: 30 }, NOW)).posts)).toEqual(['open', 'done', 'expired'])
  })

  it('finds a rare match deep in a large board, and only this neighbourhood’s', async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => postRow(`p${i}`, { createdAt: i, themes: i === 5 || i === 7 ? ['canicule'] : [] }))
    rows.push(postRow('elsewhere', { neighbourhood: 'automerge:other' as DocUrl, createdAt: 9_999, themes: ['canicule'] }))
    await put(rows)
    const page = await browse(db, NEIGHBOURHOOD, { params: params({ theme: 'canicule' }), limit: 30 }, NOW)
    expect(ids(page.posts)).toEqual(['p7', 'p5'])
    expect(page.hasMore).toBe(false)
  })

  it('reads one kind newest first', async () => {
    await put([postRow('a', { kind: 'lend', createdAt: 1 }), postRow('b', { kind: 'offer', createdAt: 2 }), postRow('c', { kind: 'lend', createdAt: 3 })])
    const page = await browse(db, NEIGHBOURHOOD, { params: params({ kind: 'lend' }), limit: 30 }, NOW)
    expect(ids(page.posts)).toEqual(['c', 'a'])
    expect(page.total).toBe(2)
  })

  it('orders nearest first when asked and the position is known, posts without a place last', async () => {
    await put([
      postRow('nowhere', { createdAt: 4 }),
      postRow('far', { lat: 46.2, lon: 4.95, createdAt: 3 }),
      postRow('near', { lat: 46.12, lon: 4.95, createdAt: 2 }),
    ])
    const request = { params: params({ order: 'near' }), limit: 30, here: { lat: 46.118, lon: 4.95 } }
    expect(ids((await browse(db, NEIGHBOURHOOD, request, NOW)).posts)).toEqual(['near', 'far', 'nowhere'])
    // Position not known yet: newest first.
    expect(ids((await browse(db, NEIGHBOURHOOD, { ...request, here: undefined }, NOW)).posts)).toEqual(['nowhere', 'far', 'near'])
  })
})

describe('newestMatching', () => {
  it('reads every post once, even when many share the same time across batches', async () => {
    // 200 posts at distinct times, then 300 at the same time: the batches (64, 256, 1024) cut through them.
    await put(Array.from({ length: 500 }, (_, i) => postRow(`p${String(i).padStart(3, '0')}`, { createdAt: i < 300 ? 7 : i })))
    const looked: string[] = []
    const found = await newestMatching(db, NEIGHBOURHOOD, (p) => (looked.push(p.id), false), 1)
    expect(found).toEqual([])
    expect(looked).toHaveLength(500)
    expect(new Set(looked).size).toBe(500)
    expect(looked.slice(0, 3)).toEqual(['p499', 'p498', 'p497'])
  })
  it('stops as soon as it has enough', async () => {
    await put(Array.from({ length: 200 }, (_, i) => postRow(`p${i}`, { createdAt: i })))
    expect(ids(await newestMatching(db, NEIGHBOURHOOD, () => true, 3))).toEqual(['p199', 'p198', 'p197'])
  })
})

describe('open needs and themes', () => {
  it('counts the open requests, newest first', async () => {
    await put([
      postRow('old', { createdAt: 1 }),
      postRow('helped', { createdAt: 2, acceptedAt: { h: 1 } }),
      postRow('done', { createdAt: 3, status: 'done' }),
      postRow('expired', { createdAt: 4, expiresAt: NOW - 1 }),
      postRow('offer', { createdAt: 5, kind: 'offer' }),
      postRow('new', { createdAt: 6 }),
    ])
    const page = await openNeeds(db, NEIGHBOURHOOD, 30, NOW)
    expect(ids(page.posts)).toEqual(['new', 'helped', 'old'])
    expect(page.total).toBe(3)
  })
  it('lists the themes in use, most used first', async () => {
    await put([postRow('a', { themes: ['canicule'] }), postRow('b', { themes: ['canicule', 'apero'] }), postRow('c')])
    expect(await themesInUse(db, NEIGHBOURHOOD)).toEqual([
      { theme: 'canicule', count: 2 },
      { theme: 'apero', count: 1 },
    ])
  })
})
