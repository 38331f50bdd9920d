import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { generateMemberKeys } from './identity.ts'
import { changeSigned, checkChangeSignature, checkFeed, signChange, unsignedAmong, validVersion, SIGNATURE_PREFIX } from './signed-changes.ts'

type Feed = Record<string, unknown> & {
  posts: Record<string, { title: string }>
  note?: string
}

const DOC = 'feedDocumentId1'
const owner = generateMemberKeys()
const other = generateMemberKeys()
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

function ownerFeed(): A.Doc<Feed> {
  let doc = A.emptyChange(A.init<Feed>())
  doc = changeSigned(doc, (d) => void (d.posts = {}), { documentId: DOC, secretKey: owner.secretKey })
  doc = changeSigned(doc, (d) => void (d.posts.p1 = { title: 'Perceuse à prêter' }), { documentId: DOC, secretKey: owner.secretKey })
  return doc
}

/** A change someone else makes to a copy of the feed, as it would reach a device through a file. */
function forged(doc: A.Doc<Feed>, fn: (d: Feed) => void, signWith?: Uint8Array): Uint8Array {
  const change = A.getLastLocalChange(A.change(A.clone(doc), fn))!
  return signWith ? signChange(change, DOC, signWith) : change
}

const apply = (doc: A.Doc<Feed>, ...changes: Uint8Array[]) => A.applyChanges(A.clone(doc), changes)[0]

describe('a signed feed change', () => {
  it('carries the owner signature and verifies with the owner key only', () => {
    const doc = ownerFeed()
    const last = A.getLastLocalChange(doc) ?? A.getAllChanges(doc).at(-1)!
    expect(A.decodeChange(last).message).toMatch(new RegExp(`^${SIGNATURE_PREFIX}`))
    expect(checkChangeSignature(last, DOC, owner.publicKey)).toBe('valid')
    expect(checkChangeSignature(last, `automerge:${DOC}`, owner.publicKey)).toBe('valid')
    expect(checkChangeSignature(last, 'anotherFeed', owner.publicKey)).toBe('bad')
    expect(checkChangeSignature(last, DOC, other.publicKey)).toBe('bad')
  })

  it('is byte-stable when decoded and encoded again', () => {
    for (const change of A.getAllChanges(ownerFeed())) expect(same(A.encodeChange(A.decodeChange(change)), change)).toBe(true)
  })

  it('refuses a tampered operation', () => {
    const signed = A.getAllChanges(ownerFeed()).at(-1)!
    const decoded = A.decodeChange(signed)
    const ops = decoded.ops.map((op) => (op.key === 'title' ? { ...op, key: 'titre' } : op))
    expect(ops).not.toEqual(decoded.ops)
    expect(checkChangeSignature(A.encodeChange({ ...decoded, ops }), DOC, owner.publicKey)).toBe('bad')
  })

  it('refuses the owner change signed again by another member', () => {
    const signed = A.getAllChanges(ownerFeed()).at(-1)!
    const resigned = signChange(A.encodeChange({ ...A.decodeChange(signed), message: null }), DOC, other.secretKey)
    expect(checkChangeSignature(resigned, DOC, owner.publicKey)).toBe('bad')
    expect(checkChangeSignature(resigned, DOC, other.publicKey)).toBe('valid')
  })

  it('refuses a signed change with trailing bytes the signature does not cover', () => {
    const signed = A.getAllChanges(ownerFeed()).at(-1)!
    expect(checkChangeSignature(new Uint8Array([...signed, 1, 2, 3]), DOC, owner.publicKey)).toBe('bad')
  })

  it('leaves the next local change of the document with the right sequence number', () => {
    const doc = ownerFeed()
    const mine = A.getAllChanges(doc).map(A.decodeChange).filter((c) => c.actor === A.getActorId(doc))
    expect(mine.map((c) => c.seq)).toEqual([1, 2, 3])
    const next = A.change(doc, (d) => void (d.note = 'plain'))
    expect(A.decodeChange(A.getLastLocalChange(next)!).seq).toBe(4)
    const after = changeSigned(next, (d) => void (d.note = 'signed'), { documentId: DOC, secretKey: owner.secretKey })
    expect(A.getAllChanges(after).map(A.decodeChange).at(-1)!.seq).toBe(5)
    expect(A.load<Feed>(A.save(after)).note).toBe('signed')
  })

  it('is made at the time it is given, still signed', () => {
    const doc = changeSigned(ownerFeed(), (d) => void (d.note = 'vu'), { documentId: DOC, secretKey: owner.secretKey, time: 1_700_000_000 })
    const last = A.getAllChanges(doc).at(-1)!
    expect(A.decodeChange(last).time).toBe(1_700_000_000)
    expect(checkChangeSignature(last, DOC, owner.publicKey)).toBe('valid')
  })

  it('changes nothing when the function changes nothing', () => {
    const doc = ownerFeed()
    expect(changeSigned(doc, () => undefined, { documentId: DOC, secretKey: owner.secretKey })).toBe(doc)
  })
})

describe('a feed check', () => {
  const check = (doc: A.Doc<Feed>, since?: ReturnType<typeof checkFeed>) => checkFeed(doc, { documentId: DOC, publicKey: owner.publicKey, since })

  it('finds nothing wrong in a feed its owner signed', () => {
    const doc = ownerFeed()
    const result = check(doc)
    expect(result).toMatchObject({ invalid: [], signed: true, heads: A.getHeads(doc) })
    expect(validVersion(doc, result)).toBe(doc)
  })

  it('leaves out an unsigned change and shows the last valid version', () => {
    const doc = ownerFeed()
    const bad = apply(doc, forged(doc, (d) => void (d.posts.p1!.title = 'Perceuse à vendre 500 €')))
    const result = check(bad)
    expect(result.invalid).toHaveLength(1)
    expect(result.heads).toEqual(A.getHeads(doc))
    expect(validVersion(bad, result).posts.p1!.title).toBe('Perceuse à prêter')
  })

  it('leaves out a change signed by another member and what depends on it, keeping the owner’s concurrent change', () => {
    const doc = ownerFeed()
    const first = forged(doc, (d) => void (d.posts.p2 = { title: 'faux' }), other.secretKey)
    const withFirst = apply(doc, first)
    const second = forged(withFirst, (d) => void (d.posts.p3 = { title: 'dépend du faux' }))
    const mine = changeSigned(doc, (d) => void (d.note = 'à moi'), { documentId: DOC, secretKey: owner.secretKey })
    const all = apply(mine, first, second)
    const result = check(all)
    expect(result.invalid).toHaveLength(2)
    const shown = validVersion(all, result)
    expect(Object.keys(shown.posts)).toEqual(['p1'])
    expect(shown.note).toBe('à moi')
  })

  it('keeps the owner’s next change off a forged branch and valid', () => {
    const doc = ownerFeed()
    const bad = apply(doc, forged(doc, (d) => void (d.note = 'faux')))
    const result = check(bad)
    const next = changeSigned(bad, (d) => void (d.posts.p9 = { title: 'nouveau' }), { documentId: DOC, secretKey: owner.secretKey, base: result.heads })
    const after = check(next)
    expect(after.invalid).toEqual(result.invalid)
    const shown = validVersion(next, after)
    expect(shown.posts.p9?.title).toBe('nouveau')
    expect(shown.note).toBeUndefined()
  })

  it('signs as a new actor when someone forged a change under the device’s actor and next sequence number', () => {
    const doc = ownerFeed()
    const underMyActor = A.getLastLocalChange(A.change(A.clone(doc, A.getActorId(doc)), (d) => void (d.note = 'faux')))!
    const bad = apply(doc, underMyActor)
    const next = changeSigned(bad, (d) => void (d.posts.p9 = { title: 'nouveau' }), { documentId: DOC, secretKey: owner.secretKey, base: check(bad).heads })
    expect(validVersion(next, check(next)).posts.p9?.title).toBe('nouveau')
  })

  it('takes a legacy feed on trust, except changes with a bad signature and what depends on them', () => {
    let doc = A.from<Feed>({ posts: { p1: { title: 'ancien' } } })
    doc = A.change(doc, (d) => void (d.note = 'ancien aussi'))
    const bad = forged(doc, (d) => void (d.posts.p2 = { title: 'faux' }), other.secretKey)
    const withBad = apply(doc, bad)
    const dependent = forged(withBad, (d) => void (d.posts.p3 = { title: 'sur le faux' }))
    const result = check(apply(withBad, dependent))
    expect(result.signed).toBe(false)
    expect(result.invalid).toHaveLength(2)
    expect(result.heads).toEqual(A.getHeads(doc))
  })

  it('counts a legacy history as the owner’s once their first signed change is built on it', () => {
    const legacy = A.change(A.from<Feed>({ posts: { p1: { title: 'ancien' } } }), (d) => void (d.note = 'x'))
    const upgraded = changeSigned(legacy, (d) => void (d.note = 'signé'), { documentId: DOC, secretKey: owner.secretKey })
    expect(check(upgraded)).toMatchObject({ signed: true, invalid: [] })
    // From then on, an unsigned change is no longer taken on trust.
    const late = apply(upgraded, forged(upgraded, (d) => void (d.posts.p1!.title = 'modifié')))
    expect(check(late).invalid).toHaveLength(1)
  })

  it('judges a legacy change made on trust again once the feed is signed', () => {
    const legacy = A.from<Feed>({ posts: {} })
    const sneaked = apply(legacy, forged(legacy, (d) => void (d.note = 'faux')))
    const before = check(sneaked)
    expect(before).toMatchObject({ signed: false, invalid: [] })
    const owners = apply(sneaked, ...A.getChanges(legacy, changeSigned(legacy, (d) => void (d.posts.p1 = { title: 'vrai' }), { documentId: DOC, secretKey: owner.secretKey })))
    const after = check(owners, before)
    expect(after.signed).toBe(true)
    expect(after.invalid).toHaveLength(1)
    expect(validVersion(owners, after).note).toBeUndefined()
  })

  it('checks only what is new since an earlier check, with the same result as a full check', () => {
    let doc = ownerFeed()
    const first = check(doc)
    doc = apply(doc, forged(doc, (d) => void (d.note = 'faux')))
    doc = changeSigned(doc, (d) => void (d.posts.p4 = { title: 'encore' }), { documentId: DOC, secretKey: owner.secretKey, base: check(doc).heads })
    const incremental = check(doc, first)
    const full = check(doc)
    expect({ ...incremental, verified: 0 }).toEqual({ ...full, verified: 0 })
    expect(check(doc, incremental).verified).toBe(0)
  })

  it('verifies one signature per head of a feed its owner signed throughout, not one per change', () => {
    let doc = ownerFeed()
    for (let i = 0; i < 20; i++) doc = changeSigned(doc, (d) => void (d.posts[`n${i}`] = { title: `n°${i}` }), { documentId: DOC, secretKey: owner.secretKey })
    expect(check(doc)).toMatchObject({ verified: 1, invalid: [], signed: true })
  })
})

describe('what the relay accepts from a member passing a feed on', () => {
  const judge = (doc: A.Doc<Feed>, changes: Uint8Array[]) => {
    const have = new Set(A.getAllChanges(doc).map((c) => A.decodeChange(c).hash))
    return unsignedAmong(changes, { documentId: DOC, publicKey: owner.publicKey, have: (h) => have.has(h) })
  }

  it('accepts the owner’s signed changes and the unsigned history they vouch for', () => {
    const legacy = A.from<Feed>({ posts: {} })
    const relay = A.clone(legacy)
    const local = A.change(legacy, (d) => void (d.note = 'hors ligne, ancienne version'))
    const signed = changeSigned(local, (d) => void (d.posts.p1 = { title: 'signé' }), { documentId: DOC, secretKey: owner.secretKey })
    expect(judge(relay, A.getChanges(relay, signed))).toBeUndefined()
  })

  it('refuses an unsigned change and a change signed by someone else', () => {
    const doc = ownerFeed()
    expect(judge(doc, [forged(doc, (d) => void (d.note = 'faux'))])).toMatchObject({ signature: 'unsigned' })
    expect(judge(doc, [forged(doc, (d) => void (d.note = 'faux'), other.secretKey)])).toMatchObject({ signature: 'bad' })
  })
})
