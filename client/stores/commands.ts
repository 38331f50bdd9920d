import type { AutomergeUrl, DocHandle } from '@automerge/automerge-repo'
import {
  answerInputSchema,
  commentInputSchema,
  FEED_MIGRATIONS,
  newFeed,
  newPost,
  thanksInputSchema,
  type FeedDoc,
  type Outcome,
  type PostInput,
  type PostRecord,
  type PostRef,
} from '../../shared/schema/feed.ts'
import { migrate } from '../../shared/schema/version.ts'
import { immutable, sameRef, storedAnswer, storedComment, storedPost } from '../../shared/schema/stored.ts'
import { canAccept, canAnswer, canClose, canRecordOutcome, canRenew, type Decision, type PostState } from '../../shared/lifecycle.ts'
import { DEFAULT_EXPIRY_MS } from '../../shared/domain.ts'
import {
  createNeighbourhoodInputSchema,
  displayNameSchema,
  newNeighbourhood,
  validateNeighbourhood,
  type Commune,
  type CreateNeighbourhoodInput,
  type NeighbourhoodDoc,
} from '../../shared/schema/neighbourhood.ts'
import { encodeKey, generateMemberKeys, memberIdFor, type MemberKeys } from '../../shared/identity.ts'
import { changeSigned, checkFeed } from '../../shared/signed-changes.ts'
import { createInvitation, readInvitation } from '../../shared/invitation.ts'
import { createDeviceLink, readDeviceLink } from '../../shared/device-link.ts'
import { membershipOf } from '../../shared/membership.ts'
import { docIdOf, newAnswerId, newCommentId, newPostId, type CommentId, type DocUrl, type MemberId, type PostId } from '../../shared/ids.ts'
import { assertValid } from '../../shared/validate.ts'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import type { PendingInvitation, PlacetteDb, Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'
import { requestPersistence } from './device.ts'
import { applySyncFile, exportSyncFile, readSyncFile } from '../sync/syncfile.ts'
import { syncFileName } from '../../shared/syncfile.ts'

/**
 * Commands: every write a person makes. Each one changes the author's own document (or, to join,
 * adds them to the neighbourhood's registry); the projector updates the index from there.
 */

const asUrl = (url: DocUrl) => url as string as AutomergeUrl

const displayName = displayNameSchema
const createInput = createNeighbourhoodInputSchema
export type { CreateNeighbourhoodInput }

async function saveProfile(db: PlacetteDb, profile: Profile): Promise<Profile> {
  // This device now holds someone's words: ask the browser not to evict them when space runs low.
  void requestPersistence()
  await db.transaction('rw', db.profiles, db.settings, async () => {
    await db.profiles.put(profile)
    await db.settings.put({ key: 'currentProfile', value: profile.id })
  })
  return profile
}

export async function createNeighbourhood(rt: Runtime, db: PlacetteDb, input: CreateNeighbourhoodInput): Promise<Profile> {
  const valid = assertValid(createInput, input)
  const keys = generateMemberKeys()
  const me = memberIdFor(keys.publicKey)
  const now = Date.now()
  const n = rt.repo.create<NeighbourhoodDoc>()
  const feed = rt.repo.create<FeedDoc>()
  writeFeed(rt, feed, keys, (d) => Object.assign(d, newFeed(n.url as DocUrl, me)))
  const doc = newNeighbourhood({
    name: valid.name,
    commune: valid.commune as Commune,
    creator: me,
    creatorName: valid.displayName,
    creatorFeed: feed.url as DocUrl,
    creatorKey: encodeKey(keys.publicKey),
    now,
  })
  // Checked before writing: a bad commune must not make an unreadable neighbourhood.
  const checked = validateNeighbourhood(doc)
  if (!checked.ok) throw new PlacetteError(Reason.invalidInput, 'invalid neighbourhood', checked.issues)
  // The feed on disk before the registry names it, both before the profile points at them: a crash in
  // between must not leave a member whose feed is lost (the convergence simulation saw it).
  await rt.repo.flush([feed.documentId])
  n.change((d) => Object.assign(d, doc))
  await rt.repo.flush([n.documentId])
  const profile = await startProfile(rt, db, { id: me, keys, displayName: valid.displayName, neighbourhood: n.url as DocUrl, feed: feed.url as DocUrl, createdAt: now })
  // This device now has someone to sign in as.
  await db.settings.delete('invitation')
  rt.relay.signInAgain()
  return profile
}

/**
 * Finds a neighbourhood by URL (from this device or the relay), waiting a little for the relay, which
 * may let a newcomer in a moment after they sign in; undefined if nobody has it now.
 */
export async function findNeighbourhood(rt: Runtime, url: DocUrl, waitMs = 10_000): Promise<NeighbourhoodDoc | undefined> {
  let handle: DocHandle<NeighbourhoodDoc>
  try {
    handle = await rt.repo.find<NeighbourhoodDoc>(asUrl(url), { allowableStates: ['ready', 'unavailable'] })
    if (!handle.isReady()) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          handle.off('change', done)
          resolve()
        }
        const timer = setTimeout(done, waitMs)
        handle.on('change', done)
      })
    }
    if (!handle.isReady()) return undefined
  } catch {
    return undefined
  }
  const checked = validateNeighbourhood(handle.doc())
  return checked.ok ? checked.value : undefined
}

/**
 * An invitation link or QR code was opened: checks it can be read, keeps it with keys made for the
 * newcomer, and signs in with them so the neighbourhood can be read before joining.
 */
export async function openInvitation(rt: Runtime, db: PlacetteDb, token: string): Promise<{ neighbourhood: DocUrl; expires: number }> {
  const { invitation } = readInvitation(token)
  const url = `automerge:${invitation.n}` as DocUrl
  const existing = await db.profiles.where('neighbourhood').equals(url).first()
  if (existing) {
    await inviteOwnEntry(rt, db, existing, token)
    return { neighbourhood: url, expires: invitation.exp }
  }
  const held = (await db.settings.get('invitation'))?.value as PendingInvitation | undefined
  if (held?.token !== token) {
    const pending: PendingInvitation = { token, neighbourhood: invitation.n, keys: generateMemberKeys() }
    await db.settings.put({ key: 'invitation', value: pending })
    rt.relay.signInAgain()
  }
  return { neighbourhood: url, expires: invitation.exp }
}

/**
 * A member who joined without an invitation (from a file made by a non-référent) adds one later: the
 * relay, which lets in only invited members, then accepts them.
 */
async function inviteOwnEntry(rt: Runtime, db: PlacetteDb, profile: Profile, token: string): Promise<void> {
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  if (n.doc().members[profile.id]?.invitation) return
  n.change((d) => {
    const entry = d.members[profile.id]
    if (entry) entry.invitation = token
  })
  await rt.repo.flush([n.documentId])
  await db.profiles.update(profile.id, { invitation: token })
  rt.relay.signInAgain()
}

/** A référent's invitation: a signed token for the join link, its QR code and the printed sheet. */
export function makeInvitation(profile: Profile, options: { validDays: number; uses: number }): { token: string; expires: number } {
  if (!profile.keys) throw new PlacetteError(Reason.notAllowed, 'this profile has no keys')
  const now = Date.now()
  const token = createInvitation({ neighbourhood: docIdOf(profile.neighbourhood), by: profile.id, validDays: options.validDays, uses: options.uses, now }, profile.keys.secretKey)
  return { token, expires: readInvitation(token).invitation.exp }
}

/** Vouches for a new neighbour (a référent's vouch, or two members', make them a member). */
export async function vouchFor(rt: Runtime, profile: Profile, member: MemberId): Promise<void> {
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  const doc = n.doc()
  const membership = membershipOf(doc)
  const mine = membership.statusOf(profile.id)
  if (mine !== 'referent' && mine !== 'member') throw new PlacetteError(Reason.notAllowed, 'a new neighbour cannot vouch yet')
  if (membership.statusOf(member) !== 'pending') throw new PlacetteError(Reason.notAllowed, 'only new neighbours need vouching')
  n.change((d) => {
    const entry = d.members[profile.id]!
    entry.vouches ??= {} as Record<MemberId, number>
    entry.vouches[member] = Date.now()
  })
  await rt.projector.settled()
}

/** A référent names another référent, or revokes a member (cut off at once by the relay). */
export async function setRole(rt: Runtime, profile: Profile, member: MemberId, role: 'referent' | 'revoked'): Promise<void> {
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  const membership = membershipOf(n.doc())
  if (membership.statusOf(profile.id) !== 'referent') throw new PlacetteError(Reason.notAllowed, 'only référents name référents or revoke members')
  if (member === profile.id || member === n.doc().createdBy) throw new PlacetteError(Reason.notAllowed, 'not this member')
  n.change((d) => {
    const entry = d.members[profile.id]!
    const field = role === 'referent' ? 'names' : 'revokes'
    entry[field] ??= {} as Record<MemberId, number>
    entry[field][member] = Date.now()
  })
  await rt.projector.settled()
}

export async function joinNeighbourhood(rt: Runtime, db: PlacetteDb, url: DocUrl, name: string): Promise<Profile> {
  const valid = assertValid(displayName, name)
  const existing = await db.profiles.where('neighbourhood').equals(url).first()
  if (existing) return startProfile(rt, db, existing)
  const held = (await db.settings.get('invitation'))?.value as PendingInvitation | undefined
  const invitation = held && `automerge:${held.neighbourhood}` === url ? held : undefined
  let n: DocHandle<NeighbourhoodDoc>
  try {
    n = await rt.repo.find<NeighbourhoodDoc>(asUrl(url))
  } catch {
    throw new PlacetteError(Reason.notFound, `neighbourhood ${url} is not available`)
  }
  if (!validateNeighbourhood(n.doc()).ok) throw new PlacetteError(Reason.invalidDocument, `${url} is not a neighbourhood`)
  const keys = invitation?.keys ?? generateMemberKeys()
  const me = memberIdFor(keys.publicKey)
  const now = Date.now()
  const feed = rt.repo.create<FeedDoc>()
  writeFeed(rt, feed, keys, (d) => Object.assign(d, newFeed(url, me)))
  // The feed on disk before the registry names it: a crash in between must not leave a member whose
  // feed is lost (the convergence simulation saw it).
  await rt.repo.flush([feed.documentId])
  n.change((d) => {
    d.members[me] = {
      displayName: valid,
      joinedAt: now,
      feed: feed.url as DocUrl,
      publicKey: encodeKey(keys.publicKey),
      // Shows everyone (and the relay) that a référent invited them.
      ...(invitation ? { invitation: invitation.token } : {}),
    }
  })
  await rt.repo.flush([n.documentId])
  const profile = await startProfile(rt, db, {
    id: me,
    keys,
    displayName: valid,
    neighbourhood: url,
    feed: feed.url as DocUrl,
    createdAt: now,
    ...(invitation ? { invitation: invitation.token } : {}),
  })
  if (invitation) {
    await db.settings.delete('invitation')
    rt.relay.signInAgain()
  }
  return profile
}

/** Saves the profile as this device's current one and starts projecting its neighbourhood. */
export async function startProfile(rt: Runtime, db: PlacetteDb, profile: Profile): Promise<Profile> {
  await saveProfile(db, profile)
  watchProfile(rt, db, profile)
  return profile
}

export function watchProfile(rt: Runtime, db: PlacetteDb, profile: Profile): void {
  rt.projector.setOwn([profile.feed, profile.neighbourhood])
  void rt.projector.watchNeighbourhood(profile.neighbourhood)
  void vouchForOwnFeed(rt, db, profile).catch(() => undefined)
}

/**
 * Every change to a member's own feed goes through here: made on the owner's last valid version (so
 * they never vouch for a change that is not theirs) and signed with their key (shared/signed-changes.ts),
 * so that it is verifiable however it travels. A profile without keys (none exist any more, but old
 * backups might) writes unsigned changes, as before signatures.
 */
function writeFeed(rt: Runtime, feed: DocHandle<FeedDoc>, keys: MemberKeys | undefined, change: (d: FeedDoc) => void): void {
  if (!keys) return feed.change(change)
  const url = feed.url as DocUrl
  feed.update((doc) => {
    const check = checkFeed(doc, { documentId: feed.documentId, publicKey: keys.publicKey, since: rt.projector.feedChecks.last(url) })
    return changeSigned(doc, change, { documentId: feed.documentId, secretKey: keys.secretKey, base: check.heads })
  })
}

/**
 * The first time a device runs a version that signs, it vouches for what it holds of its own feed:
 * one signed change on top of its unsigned history, which the hash chain then covers. From then on an
 * unsigned change to that feed is shown as unverified. Done once per device and feed.
 */
export async function vouchForOwnFeed(rt: Runtime, db: PlacetteDb, profile: Profile): Promise<void> {
  const keys = profile.keys
  if (!keys) return
  const done = ((await db.settings.get('vouchedFeeds'))?.value as string[] | undefined) ?? []
  if (done.includes(profile.feed)) return
  let feed: DocHandle<FeedDoc>
  try {
    feed = await rt.repo.find<FeedDoc>(asUrl(profile.feed))
  } catch {
    return // not on this device yet: next start
  }
  const doc = feed.doc()
  const options = { documentId: feed.documentId, publicKey: keys.publicKey }
  const strict = checkFeed(doc, options)
  const trusted = checkFeed(doc, { ...options, trustUnsigned: true })
  if (!strict.signed || strict.heads.join() !== trusted.heads.join()) {
    feed.update((d) => changeSigned(d, (f) => void (f.signedFrom = Date.now()), { documentId: feed.documentId, secretKey: keys.secretKey, base: trusted.heads }))
    await rt.repo.flush([feed.documentId])
  }
  await db.settings.put({ key: 'vouchedFeeds', value: [...done, profile.feed] })
}

async function changeOwnFeed(rt: Runtime, profile: Profile, change: (feed: FeedDoc) => void): Promise<void> {
  const feed = await rt.repo.find<FeedDoc>(asUrl(profile.feed))
  writeFeed(rt, feed, profile.keys, (d) => {
    // The owner's device is the one that may bring its feed up to date (readers migrate a copy).
    migrate(d, FEED_MIGRATIONS)
    // Feeds written before answers and comments existed lack their maps.
    d.answers ??= {} as FeedDoc['answers']
    d.comments ??= {} as FeedDoc['comments']
    change(d)
  })
  await rt.projector.settled()
}

function ownPost(feed: FeedDoc, id: PostId): PostRecord {
  const post = feed.posts[id]
  if (!post) throw new PlacetteError(Reason.notAuthor, `post ${id} is not in your feed`)
  return post
}

/** The post as every feed on this device tells it, for the lifecycle rules. */
async function postState(db: PlacetteDb, ref: PostRef): Promise<PostState> {
  const row = await db.posts.get([ref.feed, ref.id])
  if (!row) throw new PlacetteError(Reason.notFound, `post ${ref.id} not found`)
  const answers = await db.answers.where('[postFeed+post]').equals([ref.feed, ref.id]).toArray()
  return {
    author: row.author,
    kind: row.kind,
    status: row.status,
    expiresAt: row.expiresAt,
    closedAt: row.closedAt,
    accepted: row.acceptedAt,
    outcomes: row.outcomes,
    helpers: answers.filter((a) => !a.withdrawn).map((a) => a.author),
  }
}

function allowed(decision: Decision, what: string): void {
  if (!decision.ok) throw new PlacetteError(decision.reason, `${what}: ${decision.reason}`)
}

/** Official news ("info") is for référents; everyone else posts the other kinds. */
async function onlyReferentsPostInfo(db: PlacetteDb, profile: Profile, input: PostInput): Promise<void> {
  if (input.kind !== 'info') return
  const me = await db.members.get(`${profile.neighbourhood} ${profile.id}`)
  if (!me?.referent) throw new PlacetteError(Reason.notAllowed, 'only référents post official news')
}

/** Posts into the author's feed. Throws a PlacetteError listing bad fields. */
export async function postItem(rt: Runtime, db: PlacetteDb, profile: Profile, input: PostInput): Promise<PostRef> {
  await onlyReferentsPostInfo(db, profile, input)
  const id = newPostId()
  const post = newPost(input, id, Date.now())
  await changeOwnFeed(rt, profile, (d) => {
    d.posts[id] = storedPost(post)
  })
  return { feed: profile.feed, id }
}

/** Edits the author's own post: the fields of the form, nothing of its lifecycle. */
export async function editPost(rt: Runtime, db: PlacetteDb, profile: Profile, id: PostId, input: PostInput): Promise<void> {
  await onlyReferentsPostInfo(db, profile, input)
  const now = Date.now()
  const edited = newPost(input, id, now)
  await changeOwnFeed(rt, profile, (d) => {
    const p = ownPost(d, id)
    const stored = storedPost(edited)
    p.kind = stored.kind
    p.category = stored.category
    p.title = stored.title
    p.body = stored.body
    p.updatedAt = now
    if (stored.themes) p.themes = stored.themes
    else delete p.themes
    if (edited.when) p.when = edited.when
    else delete p.when
    if (edited.place) p.place = edited.place
  })
}

/** Deletes the author's own post: its content leaves the document, not just the screen. */
export async function deletePost(rt: Runtime, profile: Profile, id: PostId): Promise<void> {
  await changeOwnFeed(rt, profile, (d) => {
    ownPost(d, id)
    delete d.posts[id]
  })
}

/** "I can help", with a message. Answering again updates the message. */
export async function answerPost(rt: Runtime, db: PlacetteDb, profile: Profile, ref: PostRef, message: string): Promise<void> {
  const text = assertValid(answerInputSchema, message)
  allowed(canAnswer(await postState(db, ref), profile.id, Date.now()), 'answer')
  await changeOwnFeed(rt, profile, (d) => {
    const answers = d.answers!
    const mine = Object.values(answers).find((a) => sameRef(a.post, ref))
    if (mine) {
      mine.message = immutable(text)
      delete mine.withdrawnAt
      return
    }
    const id = newAnswerId()
    answers[id] = storedAnswer({ id, post: ref, message: text, createdAt: Date.now() })
  })
}

export async function withdrawAnswer(rt: Runtime, profile: Profile, ref: PostRef): Promise<void> {
  await changeOwnFeed(rt, profile, (d) => {
    for (const a of Object.values(d.answers!)) if (sameRef(a.post, ref)) a.withdrawnAt = Date.now()
  })
}

export async function acceptHelper(rt: Runtime, db: PlacetteDb, profile: Profile, id: PostId, helper: MemberId): Promise<void> {
  allowed(canAccept(await postState(db, { feed: profile.feed, id }), profile.id, helper, Date.now()), 'accept')
  await changeOwnFeed(rt, profile, (d) => {
    const p = ownPost(d, id)
    p.accepted ??= {} as Record<MemberId, number>
    p.accepted[helper] = Date.now()
  })
}

export async function closePost(rt: Runtime, db: PlacetteDb, profile: Profile, id: PostId, status: 'done' | 'cancelled'): Promise<void> {
  allowed(canClose(await postState(db, { feed: profile.feed, id }), profile.id, Date.now()), 'close')
  await changeOwnFeed(rt, profile, (d) => {
    const p = ownPost(d, id)
    p.status = immutable(status)
    p.closedAt = Date.now()
  })
}

/** "Still needed": another 30 days. */
export async function renewPost(rt: Runtime, db: PlacetteDb, profile: Profile, id: PostId): Promise<void> {
  allowed(canRenew(await postState(db, { feed: profile.feed, id }), profile.id, Date.now()), 'renew')
  await changeOwnFeed(rt, profile, (d) => {
    ownPost(d, id).expiresAt = Date.now() + DEFAULT_EXPIRY_MS
  })
}

export async function recordOutcome(
  rt: Runtime,
  db: PlacetteDb,
  profile: Profile,
  id: PostId,
  helper: MemberId,
  outcome: { kind: 'thanks'; note: string } | { kind: 'no-show' },
): Promise<void> {
  allowed(canRecordOutcome(await postState(db, { feed: profile.feed, id }), profile.id, helper, Date.now()), 'outcome')
  const note = outcome.kind === 'thanks' ? assertValid(thanksInputSchema, outcome.note) : ''
  await changeOwnFeed(rt, profile, (d) => {
    const p = ownPost(d, id)
    p.outcomes ??= {} as Record<MemberId, Outcome>
    p.outcomes[helper] = outcome.kind === 'thanks' ? { kind: immutable('thanks'), note: immutable(note), at: Date.now() } : { kind: immutable('no-show'), at: Date.now() }
  })
}

export async function addComment(rt: Runtime, profile: Profile, ref: PostRef, body: string): Promise<void> {
  const text = assertValid(commentInputSchema, body)
  await changeOwnFeed(rt, profile, (d) => {
    const id = newCommentId()
    d.comments![id] = storedComment({ id, post: { feed: ref.feed, id: ref.id }, body: text, createdAt: Date.now() })
  })
}

export async function editComment(rt: Runtime, profile: Profile, id: CommentId, body: string): Promise<void> {
  const text = assertValid(commentInputSchema, body)
  await changeOwnFeed(rt, profile, (d) => {
    const c = d.comments![id]
    if (!c) throw new PlacetteError(Reason.notAuthor, `comment ${id} is not yours`)
    c.body = immutable(text)
    c.updatedAt = Date.now()
  })
}

export async function deleteComment(rt: Runtime, profile: Profile, id: CommentId): Promise<void> {
  await changeOwnFeed(rt, profile, (d) => {
    if (!d.comments![id]) throw new PlacetteError(Reason.notAuthor, `comment ${id} is not yours`)
    delete d.comments![id]
  })
}

/** A file of the current neighbourhood, to carry to a device that cannot reach the relay. */
export async function exportNeighbourhoodFile(rt: Runtime, db: PlacetteDb, profile: Profile): Promise<{ bytes: Uint8Array; name: string }> {
  // A référent's file also invites: whoever joins from it can later sync through the relay.
  const referent = (await db.members.get(`${profile.neighbourhood} ${profile.id}`))?.referent
  const invitation = referent && profile.keys ? makeInvitation(profile, { validDays: 30, uses: 20 }).token : undefined
  const bytes = await exportSyncFile(rt.repo, profile.neighbourhood, invitation)
  const n = await db.neighbourhoods.get(profile.neighbourhood)
  return { bytes, name: syncFileName(n?.name ?? '', Date.now()) }
}

/**
 * Opens a sync file: checks all of it, then merges it. A file of another neighbourhood is refused
 * when this device already has a profile (joining from a file is for a device with none).
 */
export async function importNeighbourhoodFile(rt: Runtime, db: PlacetteDb, profile: Profile | undefined, bytes: Uint8Array): Promise<{ neighbourhood: DocUrl; changed: number }> {
  const file = await readSyncFile(bytes)
  if (profile && file.neighbourhood !== profile.neighbourhood) throw new PlacetteError(Reason.foreignFile, 'this file is for another neighbourhood')
  const changed = await applySyncFile(rt.repo, file)
  await db.settings.put({ key: 'lastFileImport', value: Date.now() })
  if (!profile && file.invitation) await openInvitation(rt, db, file.invitation)
  if (profile) await rt.projector.settled()
  return { neighbourhood: file.neighbourhood, changed }
}

export { sendMessage, watchConversation, type ChatMessage } from './conversation-commands.ts'

/** The code a member's device shows to link another device to them (shared/device-link.ts). */
export function deviceLinkFor(profile: Profile): string {
  if (!profile.keys) throw new PlacetteError(Reason.notAllowed, 'this profile has no keys')
  return createDeviceLink({ id: profile.id, keys: profile.keys, displayName: profile.displayName, neighbourhood: profile.neighbourhood, feed: profile.feed, ...(profile.invitation ? { invitation: profile.invitation } : {}) }, Date.now())
}

/** Makes this device one more device of the member whose code it read. */
export async function linkThisDevice(rt: Runtime, db: PlacetteDb, token: string): Promise<Profile> {
  const link = readDeviceLink(token, Date.now())
  const existing = await db.profiles.get(link.id)
  const profile = await startProfile(rt, db, existing ?? { id: link.id, keys: link.keys, displayName: link.displayName, neighbourhood: link.neighbourhood, feed: link.feed, createdAt: Date.now(), ...(link.invitation ? { invitation: link.invitation } : {}) })
  rt.relay.signInAgain()
  return profile
}

/**
 * Leaves the neighbourhood and erases what the member wrote: their feed is emptied, their entry says
 * they left, the relay erases the feed and cuts them off, other devices drop it when they sync; then
 * this device forgets the neighbourhood. Needs the relay: otherwise nobody would learn of it, and this
 * device would forget what it must still send.
 */
export async function leaveNeighbourhood(rt: Runtime, db: PlacetteDb, profile: Profile, waitMs = 15_000): Promise<void> {
  if (rt.relay.connection.state !== 'open') throw new PlacetteError(Reason.notAllowed, 'leaving needs the relay')
  const feed = await rt.repo.find<FeedDoc>(asUrl(profile.feed))
  writeFeed(rt, feed, profile.keys, (d) => {
    for (const id of Object.keys(d.posts)) delete d.posts[id as PostId]
    for (const id of Object.keys(d.answers ?? {})) delete d.answers![id as keyof typeof d.answers]
    for (const id of Object.keys(d.comments ?? {})) delete d.comments![id as CommentId]
  })
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  n.change((d) => {
    const entry = d.members[profile.id]
    if (entry) entry.leftAt = Date.now()
  })
  await rt.repo.flush([feed.documentId, n.documentId])
  // The relay cuts a departed member off once it has their leaving: that is the receipt.
  const sent = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => (stop(), resolve(false)), waitMs)
    const stop = rt.relay.onConnection((c) => {
      if (c.state === 'refused' && c.message === 'cut-off') {
        clearTimeout(timer)
        queueMicrotask(() => stop())
        resolve(true)
      }
    })
  })
  if (!sent) throw new PlacetteError(Reason.notAllowed, 'the relay did not confirm; try again')
  const docs = [profile.neighbourhood, ...(await db.members.where('neighbourhood').equals(profile.neighbourhood).toArray()).map((m) => m.feed)]
  rt.projector.stop()
  await db.transaction('rw', [db.posts, db.answers, db.comments, db.outcomes, db.members, db.neighbourhoods, db.profiles, db.settings], async () => {
    await db.posts.filter((p) => p.neighbourhood === profile.neighbourhood).delete()
    await db.answers.where('neighbourhood').equals(profile.neighbourhood).delete()
    await db.comments.where('neighbourhood').equals(profile.neighbourhood).delete()
    await db.outcomes.filter((o) => o.neighbourhood === profile.neighbourhood).delete()
    await db.members.where('neighbourhood').equals(profile.neighbourhood).delete()
    await db.neighbourhoods.delete(profile.neighbourhood)
    await db.profiles.delete(profile.id)
    await db.settings.delete('currentProfile')
  })
  for (const url of new Set(docs)) rt.repo.delete(asUrl(url))
}
