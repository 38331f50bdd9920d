/**
 * The relay's gatekeeping (DESIGN.md §4). automerge-repo serves any document to anyone who knows its
 * ID; the gate decides, for each signed-in member, which documents they may read and which writes
 * they may make, from the documents themselves:
 *
 * - a neighbourhood: read by its members (pending included) and by a newcomer holding a valid
 *   invitation; written only under `members[writer]`, by the rules of shared/membership.ts;
 * - a member's feed: read by the neighbourhood's members once the registry names it as its owner's;
 *   written by its owner's devices, or passed on by another member when every change the relay lacks
 *   is signed by the owner (shared/signed-changes.ts: validly signed, or history a signed change vouches for);
 * - a conversation: read and written by its two members only;
 * - anything else: refused. A document ID the relay does not hold is refused too (indistinguishable
 *   from one the member may not see, so IDs cannot be probed).
 *
 * Reads are enforced through the repo's `shareConfig.access` (the repo answers `doc-unavailable` and
 * never sends what is denied); writes are checked here before the repo sees the message. Trusted
 * relays (`--trust-relay`) pass: they did their own gatekeeping.
 */
import { EventEmitter } from 'node:events'
import * as A from '@automerge/automerge'
import type { DocHandle, DocumentId, PeerId, Repo, StorageAdapterInterface } from '@automerge/automerge-repo'
import { checkNeighbourhoodWrite, membershipOf, registryOf, type Membership, type WriteRefusal } from '../../shared/membership.ts'
import { checkInvitation, readInvitation } from '../../shared/invitation.ts'
import type { MemberId } from '../../shared/ids.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { Logger } from '../log.ts'
import { onEachDocument } from '../../shared/repo-workarounds.ts'
import { unsignedAmong } from '../../shared/signed-changes.ts'
import { memberIdFor } from '../../shared/identity.ts'

export interface Session {
  /** The member (or relay) that signed in. */
  id: MemberId
  peer: string
  /** A relay listed with `--trust-relay`: passes the gate. */
  trusted: boolean
  /** Neighbourhoods the member said they belong to (loaded at join). */
  neighbourhoods: string[]
  /** Invitation tokens the device holds. */
  invitations: string[]
}

export type GateRefusal = WriteRefusal | 'not-signed' | 'unknown-kind' | 'too-many-documents' | 'incomplete' | 'not-owner' | 'not-a-member' | 'invitation-expired' | 'invitation-invalid'

export type WriteVerdict =
  | { ok: true }
  /** `close`: the socket goes (a client of ours never sends this); otherwise the message is dropped. */
  | { ok: false; reason: GateRefusal; detail: string; close: boolean }

type Kind =
  | { type: 'neighbourhood' }
  | { type: 'feed'; owner: MemberId; neighbourhood: string }
  | { type: 'conversation'; members: MemberId[] }
  | { type: 'other' }
  | { type: 'none' }

/** New documents one sign-in may create (a feed, conversations): a flood of junk documents is cut. */
export const MAX_NEW_DOCUMENTS_PER_SESSION = 100
const USES_KEY = ['placette-relay', 'invitation-uses']
const docIdOf = (url: string) => url.replace(/^automerge:/, '')

export class Gate extends EventEmitter<{ 'cut-off': [MemberId, string]; 'access-changed': [string[]]; erase: [string[]] }> {
  readonly #log: Logger
  readonly #storage: StorageAdapterInterface
  #repo: Repo | undefined
  readonly #sessions = new Map<string, Session>()
  /** Documents each peer is creating right now (it sent a sync message for a document we lack). */
  readonly #creating = new Map<string, Set<string>>()
  readonly #kinds = new Map<string, Kind>()
  /** The gate's own copy of each neighbourhood and conversation, the base every write is checked on. */
  readonly #shadows = new Map<string, A.Doc<unknown>>()
  readonly #memberships = new Map<string, Membership>()
  readonly #erased = new Set<string>()
  #uses: Record<string, number> = {}
  #usesLoaded: Promise<void> | undefined

  constructor(options: { log: Logger; storage: StorageAdapterInterface }) {
    super()
    this.#log = options.log
    this.#storage = options.storage
  }

  /** Returns a function that stops following the repo. */
  attach(repo: Repo): () => void {
    this.#repo = repo
    return onEachDocument(repo, (handle) => this.#follow(handle))
  }

  bind(session: Session): void {
    this.#sessions.set(session.peer, session)
  }

  /**
   * The socket signed in with `session` is gone. A reconnecting device's new socket may have signed in
   * as the same peer before the old one's close arrived: its session stays bound.
   */
  unbind(session: Session): void {
    if (this.#sessions.get(session.peer) !== session) return
    this.#sessions.delete(session.peer)
    this.#creating.delete(session.peer)
  }

  sessionOf(peer: string): Session | undefined {
    return this.#sessions.get(peer)
  }

  /** Peers signed in now. */
  peers(): string[] {
    return [...this.#sessions.keys()]
  }

  /**
   * At join: loads the member's neighbourhoods and checks their invitations, so a revoked member or an
   * expired invitation is told so at once rather than finding nothing.
   */
  async admitSession(session: Session): Promise<{ ok: true } | { ok: false; reason: GateRefusal; detail: string }> {
    if (session.trusted) return { ok: true }
    for (const n of session.neighbourhoods) {
      const status = (await this.#membershipOf(n))?.statusOf(session.id)
      if (status === 'revoked' || status === 'left') return { ok: false, reason: 'cut-off', detail: `${status} from ${n}` }
    }
    for (const token of session.invitations) {
      const check = await this.#checkInvitation(session, token)
      if (!check.ok) return check
    }
    return { ok: true }
  }

  /** The repo's `shareConfig.access`: may this peer have this document? */
  async mayRead(peer: PeerId | string, url: DocumentId | string): Promise<boolean> {
    const session = this.#sessions.get(peer)
    if (!session) return false
    if (session.trusted) return true
    const docId = docIdOf(url)
    const kind = await this.#kindOf(docId)
    switch (kind.type) {
      case 'none':
        return this.#creating.get(peer)?.has(docId) ?? false
      case 'other':
        return false
      case 'neighbourhood': {
        const status = (await this.#membershipOf(docId))?.statusOf(session.id)
        if (status === 'referent' || status === 'member' || status === 'pending') return true
        if (status === 'revoked' || status === 'left') return false
        for (const token of session.invitations) if ((await this.#checkInvitation(session, token, docId)).ok) return true
        return false
      }
      case 'feed': {
        if (kind.owner === session.id) return true
        const doc = this.#shadows.get(docIdOf(kind.neighbourhood)) as NeighbourhoodDoc | undefined
        const membership = await this.#membershipOf(docIdOf(kind.neighbourhood))
        if (!doc || !membership) return false
        const named = docIdOf(doc.members?.[kind.owner]?.feed ?? '') === docId
        const reader = membership.statusOf(session.id)
        return named && !membership.out.has(kind.owner) && (reader === 'referent' || reader === 'member' || reader === 'pending')
      }
      case 'conversation':
        return kind.members.includes(session.id)
    }
  }

  /** Checks a message before the repo sees it: a sync message carrying changes is a write. */
  async checkWrite(peer: string, message: { type: string; documentId?: string; data?: Uint8Array }): Promise<WriteVerdict> {
    const session = this.#sessions.get(peer)
    if (!session || session.trusted || message.type !== 'sync' || !message.documentId || !message.data) return { ok: true }
    const docId = docIdOf(message.documentId)
    const kind = await this.#kindOf(docId)
    if (kind.type === 'none') {
      const creating = this.#creating.get(peer) ?? new Set<string>()
      if (!creating.has(docId) && creating.size >= MAX_NEW_DOCUMENTS_PER_SESSION) {
        return { ok: false, reason: 'too-many-documents', detail: `more than ${MAX_NEW_DOCUMENTS_PER_SESSION} new documents`, close: true }
      }
      creating.add(docId)
      this.#creating.set(peer, creating)
    }
    let changes: Uint8Array[]
    try {
      changes = A.decodeSyncMessage(message.data).changes
    } catch {
      return { ok: false, reason: 'incomplete', detail: 'not a sync message', close: true }
    }
    if (changes.length === 0) return { ok: true }

    switch (kind.type) {
      case 'feed':
        if (kind.owner !== session.id) return this.#checkPassedOn(session, docId, kind, changes, await this.#load(docId))
        return (await this.#isOut(session.id, kind.neighbourhood)) ? { ok: false, reason: 'cut-off', detail: 'revoked', close: true } : { ok: true }
      case 'other':
        return { ok: false, reason: 'unknown-kind', detail: 'not a Placette document', close: true }
      case 'conversation':
        return kind.members.includes(session.id) ? this.#checkConversationWrite(session, docId, message.data) : { ok: false, reason: 'not-yours', detail: 'conversation of others', close: true }
      case 'neighbourhood':
      case 'none':
        return this.#checkShadowWrite(session, docId, kind, message.data)
    }
  }

  /** Applies a write to the gate's copy first, then judges what it changed. */
  async #checkShadowWrite(session: Session, docId: string, kind: Kind, data: Uint8Array): Promise<WriteVerdict> {
    const base = this.#shadows.get(docId) ?? A.init()
    const after = applied(base, data)
    if (!after) return { ok: false, reason: 'incomplete', detail: 'changes whose history the relay lacks', close: false }
    const content = after as Record<string, unknown>
    if (kind.type === 'none') {
      // A new document: what it is decides who may have made it.
      if (content.type === 'placette/feed') {
        if (content.owner !== session.id) {
          // A neighbour passing on a feed its owner made offline: only if the owner signed all of it.
          const feed = kindOfContent(after)
          const verdict = feed.type === 'feed' ? await this.#checkPassedOn(session, docId, feed, A.decodeSyncMessage(data).changes, undefined) : undefined
          if (!verdict?.ok) return verdict ?? { ok: false, reason: 'not-owner', detail: 'a feed must be created by its owner', close: false }
        }
        return this.#remember(docId, after)
      }
      if (content.type === 'placette/conversation') {
        const members = Array.isArray(content.members) ? (content.members as MemberId[]) : []
        if (members.length !== 2 || !members.includes(session.id)) return { ok: false, reason: 'not-yours', detail: 'a conversation is made by one of its two members', close: true }
        return this.#remember(docId, after)
      }
      if (content.type !== 'placette/neighbourhood') return { ok: false, reason: 'unknown-kind', detail: 'not a Placette document', close: true }
    }
    const before = A.getHeads(base).length ? (base as NeighbourhoodDoc) : undefined
    const paths = A.diff(after, A.getHeads(base), A.getHeads(after)).map((p) => p.path)
    await this.#loadUses()
    const verdict = checkNeighbourhoodWrite({
      sender: session.id,
      before,
      after: after as NeighbourhoodDoc,
      paths,
      documentId: docId,
      now: Date.now(),
      usesLeft: (nonce, uses) => (this.#uses[nonce] ?? 0) < uses,
    })
    if (!verdict.ok) return { ...verdict, close: true }
    if (verdict.joined) await this.#countUse(verdict.joined.invitation)
    this.#setShadow(docId, after)
    if (!before) this.#kinds.set(docId, { type: 'neighbourhood' })
    return { ok: true }
  }

  /**
   * A member passing on changes to someone else's feed (got from a file or a direct link): accepted
   * when every change the relay lacks is signed by the feed's owner, with the key in the registry.
   * Otherwise dropped, not punished: the carrier may not know (their own device flags the feed), and
   * closing their socket would stop them syncing at all, since they would send it again on every
   * reconnection.
   */
  async #checkPassedOn(session: Session, docId: string, kind: Kind & { type: 'feed' }, changes: Uint8Array[], held: A.Doc<unknown> | undefined): Promise<WriteVerdict> {
    const refuse = (reason: GateRefusal, detail: string): WriteVerdict => ({ ok: false, reason, detail: `feed of ${kind.owner}: ${detail}`, close: false })
    // Membership first: it loads the neighbourhood's shadow when the gate has not seen it yet.
    const membership = await this.#membershipOf(docIdOf(kind.neighbourhood))
    const n = this.#shadows.get(docIdOf(kind.neighbourhood)) as NeighbourhoodDoc | undefined
    const sender = membership?.statusOf(session.id)
    if (!n || !membership || (sender !== 'referent' && sender !== 'member' && sender !== 'pending')) return refuse('not-owner', 'the sender is not a member here')
    // Covers a departed member's erased feed coming back from an old copy: signed, but gone for good.
    if (membership.out.has(kind.owner)) return refuse('not-owner', 'its owner is no longer a member')
    if (docIdOf(String(n.members?.[kind.owner]?.feed ?? '')) !== docId) return refuse('not-owner', 'not the feed the registry names')
    const key = registryOf(n).publicKeyOf(kind.owner)
    const publicKey = key && memberIdFor(key) === kind.owner ? key : undefined
    const refused = unsignedAmong(changes, { documentId: docId, publicKey, have: (hash) => !!held && A.hasHeads(held, [hash]) })
    if (refused) return refuse('not-signed', `change ${refused.hash.slice(0, 12)} ${refused.signature === 'bad' ? 'has a signature that is not the owner’s' : 'is not signed'}`)
    return { ok: true }
  }

  /** Each of the two writes only entries marked as theirs. */
  #checkConversationWrite(session: Session, docId: string, data: Uint8Array): WriteVerdict {
    const base = this.#shadows.get(docId) ?? A.init()
    const after = applied(base, data)
    if (!after) return { ok: false, reason: 'incomplete', detail: 'changes whose history the relay lacks', close: false }
    const before = (base as { entries?: Record<string, { from?: unknown }> }).entries ?? {}
    const now = (after as { entries?: Record<string, { from?: unknown }> }).entries ?? {}
    for (const { path } of A.diff(after, A.getHeads(base), A.getHeads(after))) {
      const id = path[1]
      const mine = path[0] === 'entries' && typeof id === 'string' && now[id]?.from === session.id && (before[id] === undefined || before[id]?.from === session.id)
      if (!mine) return { ok: false, reason: 'not-yours', detail: `writes at ${path.slice(0, 2).join('.')}`, close: true }
    }
    this.#setShadow(docId, after)
    return { ok: true }
  }

  #remember(docId: string, doc: A.Doc<unknown>): WriteVerdict {
    const kind = kindOfContent(doc)
    this.#kinds.set(docId, kind)
    if (kind.type === 'conversation') this.#setShadow(docId, doc)
    return { ok: true }
  }

  async #isOut(member: MemberId, neighbourhood: string): Promise<boolean> {
    return (await this.#membershipOf(docIdOf(neighbourhood)))?.out.has(member) ?? false
  }

  async #checkInvitation(session: Session, token: string, only?: string): Promise<{ ok: true } | { ok: false; reason: GateRefusal; detail: string }> {
    let n: string
    try {
      n = readInvitation(token).invitation.n
    } catch {
      return { ok: false, reason: 'invitation-invalid', detail: 'damaged invitation' }
    }
    if (only && n !== only) return { ok: false, reason: 'invitation-invalid', detail: 'another neighbourhood' }
    const doc = (await this.#membershipOf(n)) && (this.#shadows.get(n) as NeighbourhoodDoc | undefined)
    // Not here yet (it may be on its way from its creator): nothing to judge, nothing to read either.
    if (!doc) return { ok: true }
    // Already a member: the invitation has done its work.
    if (doc.members?.[session.id]) return { ok: true }
    const check = checkInvitation(token, n, registryOf(doc), Date.now())
    if (!check.ok) return { ok: false, reason: check.reason === 'expired' ? 'invitation-expired' : 'invitation-invalid', detail: check.reason }
    await this.#loadUses()
    if ((this.#uses[check.invitation.nonce] ?? 0) >= check.invitation.uses) return { ok: false, reason: 'invitation-used-up', detail: 'used as many times as allowed' }
    return { ok: true }
  }

  async #membershipOf(docId: string): Promise<Membership | undefined> {
    const cached = this.#memberships.get(docId)
    if (cached) return cached
    const kind = await this.#kindOf(docId)
    if (kind.type !== 'neighbourhood') return undefined
    const doc = this.#shadows.get(docId) as NeighbourhoodDoc | undefined
    if (!doc) return undefined
    const membership = membershipOf(doc)
    this.#memberships.set(docId, membership)
    return membership
  }

  async #kindOf(docId: string): Promise<Kind> {
    const known = this.#kinds.get(docId)
    if (known && known.type !== 'none') return known
    const doc = await this.#load(docId)
    if (!doc || A.getHeads(doc).length === 0) return { type: 'none' }
    const kind = kindOfContent(doc)
    this.#kinds.set(docId, kind)
    if ((kind.type === 'neighbourhood' || kind.type === 'conversation') && !this.#shadows.has(docId)) this.#setShadow(docId, A.clone(doc))
    return kind
  }

  /**
   * The document as the relay holds it: from the repo's memory, or read straight from storage. Never
   * through `repo.find`, which would ask the repo's peers — and so call back into the gate.
   */
  async #load(docId: string): Promise<A.Doc<unknown> | undefined> {
    const handle = this.#repo?.handles[docId as DocumentId]
    if (handle?.isReady()) return handle.doc()
    let chunks: { key: string[]; data?: Uint8Array }[]
    try {
      chunks = await this.#storage.loadRange([docId])
    } catch (err) {
      this.#log.error('could not read a document for the gate', { doc: docId, err })
      return undefined
    }
    const parts = chunks.filter((c) => (c.key[1] === 'snapshot' || c.key[1] === 'incremental') && c.data).map((c) => c.data!)
    if (parts.length === 0) return undefined
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
    let at = 0
    for (const part of parts) {
      bytes.set(part, at)
      at += part.byteLength
    }
    try {
      return A.load(bytes)
    } catch (err) {
      this.#log.warn('a stored document does not load; the gate treats it as absent', { doc: docId, err })
      return undefined
    }
  }

  /** Keeps the gate's copies in step with what reaches the repo by any path (upstream relays too). */
  #follow(handle: DocHandle<unknown>): void {
    const docId = handle.documentId as string
    handle.on('change', ({ doc }) => {
      const shadow = this.#shadows.get(docId)
      if (!shadow) return
      if (A.hasHeads(shadow, A.getHeads(doc))) return
      this.#setShadow(docId, A.merge(shadow, A.clone(doc)))
    })
  }

  #setShadow(docId: string, doc: A.Doc<unknown>): void {
    this.#shadows.set(docId, doc)
    if (this.#kinds.get(docId)?.type !== 'neighbourhood' && (doc as { type?: unknown }).type !== 'placette/neighbourhood') return
    const membership = membershipOf(doc as NeighbourhoodDoc)
    this.#memberships.set(docId, membership)
    // Who may read the neighbourhood and its feeds may have changed: let the relay offer them again
    // to those who asked before they were let in (a newcomer's first request races their joining,
    // and the neighbourhood itself may arrive after they asked for it).
    const members = (doc as NeighbourhoodDoc).members ?? {}
    const feeds = Object.values(members).map((m) => docIdOf(String(m.feed ?? '')))
    this.emit('access-changed', [docId, ...feeds])
    // A member who left takes what they wrote with them: their feed is erased here too.
    const gone = Object.entries(members).filter(([id, m]) => membership.statusOf(id as MemberId) === 'left' && !this.#erased.has(String(m.feed)))
    if (gone.length) {
      for (const [, m] of gone) this.#erased.add(String(m.feed))
      this.emit('erase', gone.map(([, m]) => docIdOf(String(m.feed))))
    }
    // Revoked or gone: cut off at once, on every device.
    for (const session of this.#sessions.values()) {
      if (membership.out.has(session.id)) this.emit('cut-off', session.id, membership.statusOf(session.id) ?? 'out')
    }
  }

  async #loadUses(): Promise<void> {
    this.#usesLoaded ??= (async () => {
      try {
        const bytes = await this.#storage.load(USES_KEY)
        if (bytes) this.#uses = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, number>
      } catch (err) {
        this.#log.error('invitation uses unreadable; counting from zero', { err })
      }
    })()
    await this.#usesLoaded
  }

  async #countUse(token: string): Promise<void> {
    const nonce = readInvitation(token).invitation.nonce
    this.#uses[nonce] = (this.#uses[nonce] ?? 0) + 1
    await this.#storage.save(USES_KEY, new TextEncoder().encode(JSON.stringify(this.#uses)))
  }
}

function kindOfContent(doc: unknown): Kind {
  const d = doc as Record<string, unknown>
  if (d.type === 'placette/neighbourhood') return { type: 'neighbourhood' }
  if (d.type === 'placette/feed' && typeof d.owner === 'string' && typeof d.neighbourhood === 'string') {
    return { type: 'feed', owner: d.owner as MemberId, neighbourhood: docIdOf(d.neighbourhood) }
  }
  if (d.type === 'placette/conversation' && Array.isArray(d.members)) return { type: 'conversation', members: [...(d.members as MemberId[])] }
  return { type: 'other' }
}

/**
 * The document after the message's changes, or undefined if some of them wait for changes we lack
 * (Automerge keeps those aside; judging without them would let them slip in unjudged later).
 */
function applied(base: A.Doc<unknown>, data: Uint8Array): A.Doc<unknown> | undefined {
  const [after] = A.receiveSyncMessage(A.clone(base), A.initSyncState(), data)
  return A.getMissingDeps(after, []).length === 0 ? after : undefined
}
