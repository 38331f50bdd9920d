import { beforeAll, describe, expect, it } from 'vitest'
import { PostSearchIndex } from './search-index.ts'
import { commentRow, postRow } from './test-rows.ts'

const drill = postRow('drill', { kind: 'lend', category: 'diy', title: 'Je prête ma perceuse', body: 'Perceuse à percussion avec ses mèches, pour le béton.', createdAt: 3_000 })
const lift = postRow('lift', { kind: 'request', category: 'lifts', title: 'Conduire au marché samedi', body: 'Départ 9 h devant la mairie.', createdAt: 2_000 })
const garden = postRow('garden', { kind: 'offer', category: 'gardening', title: 'Aide au jardin', body: 'Je taille les haies et je tonds.', themes: ['printemps'], createdAt: 1_000 })

const ids = (index: PostSearchIndex, q: string, keep?: Parameters<PostSearchIndex['search']>[1]) => index.search(q, keep).map((h) => h.key[1])

async function indexOf(...posts: ReturnType<typeof postRow>[]) {
  const index = new PostSearchIndex()
  await index.sync(posts, [])
  return index
}

describe('PostSearchIndex: finding', () => {
  let index: PostSearchIndex
  beforeAll(async () => {
    index = await indexOf(drill, lift, garden)
  })

  it('finds a post by the plural of a word of its title', () => {
    expect(ids(index, 'perceuses')).toEqual(['drill'])
  })
  it('finds a post by a word of its details, accents or not', () => {
    expect(ids(index, 'meches')).toEqual(['drill'])
    expect(ids(index, 'BÉTON')).toEqual(['drill'])
    expect(ids(index, 'mairie')).toEqual(['lift'])
  })
  it('finds as you type (prefix) and forgives a typo in a longer word', () => {
    expect(ids(index, 'perc')).toEqual(['drill'])
    expect(ids(index, 'jard')).toEqual(['garden'])
    expect(ids(index, 'perseuse')).toEqual(['drill'])
    expect(ids(index, 'marhé')).toEqual(['lift'])
  })
  it('needs every word: a second word narrows the list', () => {
    expect(ids(index, 'je')).toEqual([])
    expect(ids(index, 'samedi perceuse')).toEqual([])
    expect(ids(index, 'perceuse béton')).toEqual(['drill'])
  })
  it('finds a post by its theme', () => {
    expect(ids(index, 'printemps')).toEqual(['garden'])
  })
  it('finds nothing for stop words alone', () => {
    expect(index.search('la de les')).toEqual([])
  })
  it('returns keys and facets, and lets a filter keep some', () => {
    const [hit] = index.search('perceuse')
    expect(hit?.key).toEqual([drill.feed, 'drill'])
    expect(hit?.facet).toMatchObject({ kind: 'lend', category: 'diy', createdAt: 3_000 })
    expect(ids(index, 'perceuse', (f) => f.kind === 'request')).toEqual([])
    expect(ids(index, 'perceuse', (f) => f.kind === 'lend')).toEqual(['drill'])
  })
  it('ranks a title match above a match in the details', async () => {
    const a = postRow('a', { title: 'Tondeuse à prêter', createdAt: 1 })
    const b = postRow('b', { title: 'Coup de main', body: 'Il me faudrait une tondeuse pour samedi', createdAt: 2 })
    expect(ids(await indexOf(b, a), 'tondeuse')).toEqual(['a', 'b'])
  })
})

describe('PostSearchIndex: staying current', () => {
  it('touches nothing when nothing changed', async () => {
    const index = new PostSearchIndex()
    expect(await index.sync([drill, lift], [])).toEqual({ added: 2, replaced: 0, discarded: 0 })
    expect(await index.sync([drill, lift], [])).toEqual({ added: 0, replaced: 0, discarded: 0 })
    expect(index.size).toBe(2)
  })
  it('re-indexes an edited post only', async () => {
    const index = await indexOf(drill, lift)
    const edited = { ...drill, title: 'Je prête ma ponceuse', body: '' }
    expect(await index.sync([edited, lift], [])).toEqual({ added: 0, replaced: 1, discarded: 0 })
    expect(ids(index, 'ponceuse')).toEqual(['drill'])
    expect(ids(index, 'perceuse')).toEqual([])
  })
  it('finds a post by a word of a comment, and forgets it when the comment goes', async () => {
    const index = await indexOf(drill, lift)
    const comment = commentRow('c1', lift, 'Je peux passer vous prendre en voiture')
    expect(await index.sync([drill, lift], [comment])).toEqual({ added: 0, replaced: 1, discarded: 0 })
    expect(ids(index, 'voiture')).toEqual(['lift'])
    await index.sync([drill, lift], [])
    expect(ids(index, 'voiture')).toEqual([])
  })
  it('ignores comments of a post it does not hold', async () => {
    const index = await indexOf(drill)
    await index.sync([drill], [commentRow('c1', lift, 'voiture')])
    expect(ids(index, 'voiture')).toEqual([])
  })
  it('updates the filter fields when the status changes', async () => {
    const index = await indexOf(lift)
    const open = (f: { status: string }) => f.status === 'open'
    expect(ids(index, 'marché', open)).toEqual(['lift'])
    expect(await index.sync([{ ...lift, status: 'done' }], [])).toEqual({ added: 0, replaced: 1, discarded: 0 })
    expect(ids(index, 'marché', open)).toEqual([])
  })
  it('discards deleted posts, and everything when the neighbourhood changes', async () => {
    const index = await indexOf(drill, lift, garden)
    expect(await index.sync([lift, garden], [])).toEqual({ added: 0, replaced: 0, discarded: 1 })
    expect(ids(index, 'perceuse')).toEqual([])
    const elsewhere = postRow('other', { feed: 'automerge:feedZ', title: 'Perceuse à vendre' })
    expect(await index.sync([elsewhere], [])).toEqual({ added: 1, replaced: 0, discarded: 2 })
    expect(index.search('perceuse').map((h) => h.key)).toEqual([['automerge:feedZ', 'other']])
  })
  it('builds a large board in chunks, and runs back-to-back syncs in order', async () => {
    const index = new PostSearchIndex()
    const many = Array.from({ length: 1_200 }, (_, i) => postRow(`p${i}`, { title: i === 1_100 ? 'Perceuse' : `Annonce ${i}` }))
    const first = index.sync(many, [])
    // Started before the first has finished adding: it must see post p1100 already indexed.
    const second = index.sync(many.map((p) => (p.id === 'p1100' ? { ...p, title: 'Ponceuse' } : p)), [])
    expect(await first).toEqual({ added: 1_200, replaced: 0, discarded: 0 })
    expect(await second).toEqual({ added: 0, replaced: 1, discarded: 0 })
    expect(ids(index, 'ponceuse')).toEqual(['p1100'])
    expect(index.size).toBe(1_200)
  })
  it('keeps posts of two feeds with the same id apart', async () => {
    const twin = postRow('drill', { feed: 'automerge:feedZ', title: 'Perceuse sans fil' })
    const index = await indexOf(drill, twin)
    expect(index.size).toBe(2)
    expect(index.search('perceuse').map((h) => h.key[0]).sort()).toEqual([drill.feed, 'automerge:feedZ'])
  })
})

describe('PostSearchIndex: fuzziness', () => {
  let index: PostSearchIndex
  beforeAll(async () => {
    index = await indexOf(
      postRow('drill', { title: 'Perceuse' }),
      postRow('sander', { title: 'Ponceuse' }),
      postRow('it', { title: 'Aide informatique' }),
      postRow('cat', { title: 'Chat perdu' }),
    )
  })
  it('forgives one typo in a word of four to nine letters, not two', () => {
    expect(ids(index, 'perseuse')).toEqual(['drill'])
    expect(ids(index, 'perceuse')).toEqual(['drill'])
  })
  it('forgives two typos in a long word', () => {
    expect(ids(index, 'informatiqe')).toEqual(['it'])
    expect(ids(index, 'imformatiqe')).toEqual(['it'])
  })
  it('is exact (but for prefixes) below four letters', () => {
    expect(ids(index, 'cha')).toEqual(['cat'])
    expect(ids(index, 'cht')).toEqual([])
  })
})
