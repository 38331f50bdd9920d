/**
 * Per-change signatures for member feeds (DESIGN.md §4). A feed has one writer; the relay knows who
 * is writing when the owner's own device sends, but changes also travel through other members (a sync
 * file, a direct link), and Automerge actor IDs are random and public, so nothing in a bare change
 * says who made it. Each change the owner makes therefore carries, in Automerge's change `message`,
 * an Ed25519 signature by the owner's member key over:
 *
 *   context `feed-change` + the feed's document ID + SHA-256(the change encoded with message = null)
 *
 * The change hash covers the message, so the stored change is the signed one (its hash is what later
 * changes depend on). The hash chain does the rest: a signed change names its dependencies by hash,
 * so the owner's signature vouches for its whole history. That is what makes old feeds work: the
 * unsigned changes an owner wrote before this existed are vouched for by the owner's first signed
 * change on top of them.
 *
 * The valid version of a feed is therefore:
 * - once the feed holds a change validly signed by its owner ("signed" feed): every validly signed
 *   change and everything it depends on; anything else (unsigned, signed by another key, or depending
 *   on such a change) is left out;
 * - while it holds none ("legacy" feed, written only by older versions): every change except those
 *   carrying a bad signature and whatever depends on them — taken on trust, as before signatures.
 *
 * Checked with @automerge/automerge 3.5: a change decoded and encoded again is byte-identical, and a
 * change made on a fork with the document's own actor, signed and applied to the document, leaves its
 * next local change with the right sequence number.
 */
import * as A from '@automerge/automerge'
import { sha256 } from '@noble/hashes/sha2.js'
import { base64urlnopad, utf8 } from '@scure/base'
import { sign, verify } from './identity.ts'
import { sameHeads } from './heads.ts'

export const FEED_CHANGE_CONTEXT = 'feed-change'
/** How a signed change's message starts; the rest is the signature, base64url. */
export const SIGNATURE_PREFIX = 'placette-sig:1:'

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

function signedPayload(documentId: string, unsigned: Uint8Array): Uint8Array {
  const id = utf8.decode(`${documentId.replace(/^automerge:/, '')}:`)
  const digest = sha256(unsigned)
  const out = new Uint8Array(id.length + digest.length)
  out.set(id)
  out.set(digest, id.length)
  return out
}

/** Signs a change made by the owner: the same change, with the signature as its message. */
export function signChange(change: Uint8Array, documentId: string, secretKey: Uint8Array): Uint8Array {
  const decoded = A.decodeChange(change)
  const unsigned = A.encodeChange({ ...decoded, message: null })
  const signature = sign(FEED_CHANGE_CONTEXT, signedPayload(documentId, unsigned), secretKey)
  return A.encodeChange({ ...decoded, message: SIGNATURE_PREFIX + base64urlnopad.encode(signature) })
}

export type ChangeSignature = 'valid' | 'unsigned' | 'bad'

/**
 * Whether `change` is signed by `publicKey` for this document. A change that does not encode back to
 * exactly its own bytes is `bad`: whatever the decoder drops (unknown trailing fields) would not be
 * covered by the signature.
 */
export function checkChangeSignature(change: Uint8Array, documentId: string, publicKey: Uint8Array | undefined): ChangeSignature {
  let decoded: A.DecodedChange
  try {
    decoded = A.decodeChange(change)
  } catch {
    return 'bad'
  }
  const message = decoded.message ?? ''
  if (!message.startsWith(SIGNATURE_PREFIX)) return 'unsigned'
  if (!publicKey) return 'bad'
  let signature: Uint8Array
  try {
    signature = base64urlnopad.decode(message.slice(SIGNATURE_PREFIX.length))
    if (!sameBytes(A.encodeChange(decoded), change)) return 'bad'
  } catch {
    return 'bad'
  }
  const unsigned = A.encodeChange({ ...decoded, message: null })
  return verify(FEED_CHANGE_CONTEXT, signedPayload(documentId, unsigned), signature, publicKey) ? 'valid' : 'bad'
}

/**
 * Makes `fn`'s change to `doc` signed by the owner, built on `base` (the feed's valid heads; by default
 * its heads), so an owner never vouches for a change that is not theirs. Returns the document with the
 * signed change applied (or `doc` itself if `fn` changed nothing).
 */
export function changeSigned<T>(
  doc: A.Doc<T>,
  fn: A.ChangeFn<T>,
  options: { documentId: string; secretKey: Uint8Array; base?: A.Heads; /** Seconds since epoch; Automerge's clock by default. */ time?: number },
): A.Doc<T> {
  const heads = A.getHeads(doc)
  const base = options.base && !sameHeads(options.base, heads) ? options.base : undefined
  const fork = (actor?: string) => (base ? A.clone(A.view(doc, base), actor) : A.clone(doc, actor))
  const make = (actor?: string) => {
    const scratch = fork(actor)
    try {
      const changed = options.time === undefined ? A.change(scratch, fn) : A.change(scratch, { time: options.time }, fn)
      const change = A.getLastLocalChange(changed)
      if (!change || sameHeads(A.getHeads(changed), base ?? heads)) return undefined
      return signChange(change, options.documentId, options.secretKey)
    } finally {
      // The fork is a whole copy of the document in wasm memory, which the JS garbage collector does
      // not see: left to it, 25,000 signed writes in one process ran out of it ("Module terminated").
      A.free(scratch)
    }
  }
  // The document's own actor keeps its actor table small. A change forged under that actor with the
  // next sequence number would make Automerge refuse ours ("duplicate seq"): then sign as a new actor.
  const own = make(A.getActorId(doc))
  if (!own) return doc
  try {
    return A.applyChanges(doc, [own])[0]
  } catch {
    const fresh = make()
    return fresh ? A.applyChanges(doc, [fresh])[0] : doc
  }
}

/** What a check of a feed found; kept by the client so a cold start checks only what is new. */
export interface FeedCheck {
  /** Heads of the owner's last valid version. */
  heads: string[]
  /** Hashes of the changes left out (not validly signed, or depending on one that is not). */
  invalid: string[]
  /** Whether the feed holds a change validly signed by its owner (otherwise: a legacy feed). */
  signed: boolean
  /** Signatures verified by this check (for measuring). */
  verified: number
}

interface Meta {
  hash: string
  deps: string[]
  message: string | null
}

/**
 * Checks a feed's changes against its owner's key. With `since` (an earlier check of the same feed on
 * this device), only changes after its valid heads are looked at: those before were checked already.
 */
export function checkFeed(
  doc: A.Doc<unknown>,
  options: {
    documentId: string
    publicKey: Uint8Array | undefined
    since?: FeedCheck | undefined
    /** Judge as a legacy feed whatever it holds: what the owner's device vouches for when it first signs. */
    trustUnsigned?: boolean
  },
): FeedCheck {
  const { since } = options
  // A legacy result is no base: once a signature arrives, the whole history is judged again.
  const base = since?.signed ? since.heads.filter((h) => A.hasHeads(doc, [h])) : []
  const changes: Meta[] = A.getChangesMetaSince(doc, base)
  const { vouched, signatures, verified } = judge(changes, (c) => {
    // getBackend is Automerge's own (typed, marked hidden): the one way to fetch one change by hash.
    const bytes = A.getBackend(doc).getChangeByHash(c.hash)
    return bytes ? checkChangeSignature(bytes, options.documentId, options.publicKey) : 'bad'
  })
  const signed = (since?.signed ?? false) || vouched.size > 0
  let valid = vouched
  if (!signed || options.trustUnsigned) {
    // Legacy: everything but bad signatures and what depends on them.
    const dependents = new Map<string, string[]>()
    for (const c of changes) for (const d of c.deps) dependents.set(d, [...(dependents.get(d) ?? []), c.hash])
    const out = new Set<string>()
    const stack = changes.filter((c) => signatures.get(c.hash) === 'bad').map((c) => c.hash)
    while (stack.length) {
      const hash = stack.pop()!
      if (out.has(hash)) continue
      out.add(hash)
      stack.push(...(dependents.get(hash) ?? []))
    }
    valid = new Set(changes.filter((c) => !out.has(c.hash)).map((c) => c.hash))
  }
  const invalid = changes.filter((c) => !valid.has(c.hash)).map((c) => c.hash)
  return { heads: invalid.length ? headsOf(base, changes, valid) : A.getHeads(doc), invalid, signed, verified }
}

/**
 * Walks the changes from the newest (Automerge lists them in causal order): a change validly signed
 * vouches for its history, whose signatures then need no verifying. A feed its owner signed throughout
 * costs one verification per head, not one per change. `vouched`: the changes a valid signature covers.
 */
function judge<M extends Meta>(changes: readonly M[], signatureOf: (c: M) => ChangeSignature): { vouched: Set<string>; signatures: Map<string, ChangeSignature>; verified: number } {
  const byHash = new Map(changes.map((c) => [c.hash, c]))
  const vouched = new Set<string>()
  const signatures = new Map<string, ChangeSignature>()
  let verified = 0
  for (let i = changes.length - 1; i >= 0; i--) {
    const c = changes[i]!
    if (vouched.has(c.hash)) continue
    if (!c.message?.startsWith(SIGNATURE_PREFIX)) {
      signatures.set(c.hash, 'unsigned')
      continue
    }
    const signature = signatureOf(c)
    verified++
    signatures.set(c.hash, signature)
    if (signature !== 'valid') continue
    const stack = [c.hash]
    while (stack.length) {
      const hash = stack.pop()!
      const d = byHash.get(hash)
      // Not among `changes`: before the base, valid already.
      if (!d || vouched.has(hash)) continue
      vouched.add(hash)
      stack.push(...d.deps)
    }
  }
  return { vouched, signatures, verified }
}

/** The heads of `base`'s history plus the `valid` changes. */
function headsOf(base: string[], changes: Meta[], valid: Set<string>): string[] {
  const depended = new Set<string>()
  for (const c of changes) if (valid.has(c.hash)) for (const d of c.deps) depended.add(d)
  const heads = new Set([...base.filter((h) => !depended.has(h)), ...changes.filter((c) => valid.has(c.hash) && !depended.has(c.hash)).map((c) => c.hash)])
  return [...heads].sort()
}

/** The owner's last valid version: the document itself when nothing was left out. */
export function validVersion<T>(doc: A.Doc<T>, check: FeedCheck): A.Doc<T> {
  return check.invalid.length ? A.view(doc, check.heads) : doc
}

/**
 * For the relay: whether every change in `changes` that `have` does not already hold is validly
 * signed by the owner or an ancestor (among them) of one that is. Returns the first change that is
 * neither, or undefined when all are acceptable.
 */
export function unsignedAmong(changes: readonly Uint8Array[], options: { documentId: string; publicKey: Uint8Array | undefined; have: (hash: string) => boolean }): { hash: string; signature: ChangeSignature } | undefined {
  const fresh: (Meta & { bytes: Uint8Array })[] = []
  for (const bytes of changes) {
    let decoded: A.DecodedChange
    try {
      decoded = A.decodeChange(bytes)
    } catch {
      return { hash: '', signature: 'bad' }
    }
    if (!options.have(decoded.hash)) fresh.push({ hash: decoded.hash, deps: decoded.deps, message: decoded.message, bytes })
  }
  const { vouched, signatures } = judge(fresh, (c) => checkChangeSignature(c.bytes, options.documentId, options.publicKey))
  const refused = fresh.find((c) => !vouched.has(c.hash))
  return refused && { hash: refused.hash, signature: signatures.get(refused.hash) ?? 'unsigned' }
}
