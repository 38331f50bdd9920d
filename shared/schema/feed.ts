import * as v from 'valibot'
import { DOC_URL_PATTERN, ID_PATTERN, type AnswerId, type CommentId, type DocUrl, type MemberId, type PostId } from '../ids.ts'
import { CATEGORIES, DEFAULT_EXPIRY_MS, LIMITS, POST_KINDS, WRITABLE_KINDS, type Category, type PostKind } from '../domain.ts'
import { assertValid, check, plainString, requiredText, type Checked } from '../validate.ts'
import { blurPlace, type Place } from '../place.ts'
import { CURRENT_SCHEMA_VERSION, readAsCurrent, type Migration } from './version.ts'

/**
 * A member feed: one per member per neighbourhood, written only by that member. Everything the member
 * writes lives here — their posts (with every decision they take on them: acceptances, closing,
 * thanks), their answers to others' posts, their comments — and the board is the union of the feeds,
 * assembled by the projector. Deleting something deletes its key: the content is gone, not hidden.
 */
export interface FeedDoc {
  schemaVersion: number
  type: 'placette/feed'
  neighbourhood: DocUrl
  owner: MemberId
  posts: Record<PostId, PostRecord>
  /** "I can help" answers to other members' posts (absent in feeds written before answers existed). */
  answers?: Record<AnswerId, AnswerRecord>
  comments?: Record<CommentId, CommentRecord>
  /**
   * When one of the owner's devices first signed this feed (shared/signed-changes.ts): its signed
   * change vouches for the unsigned history before it. Absent in feeds no signing version has written.
   */
  signedFrom?: number
}

/** Where a post lives: its author's feed and its ID in it. */
export interface PostRef {
  feed: DocUrl
  id: PostId
}

export type PostStatus = 'open' | 'done' | 'cancelled'
export type Outcome = { kind: 'thanks'; note: string; at: number } | { kind: 'no-show'; at: number }

export interface PostRecord {
  id: PostId
  kind: PostKind
  category: Category
  title: string
  body: string
  createdAt: number
  updatedAt?: number
  themes?: string[]
  /** Optional date or time window (ms since epoch). */
  when?: { start: number; end?: number }
  /** After this, an open post is shown as expired and its author asked "still needed?". */
  expiresAt?: number
  /** Already blurred to ~200 m on the author's device (shared/place.ts). */
  place?: Place
  /** Absent means open. */
  status?: PostStatus
  closedAt?: number
  /** Helpers the author accepted, with when. */
  accepted?: Record<MemberId, number>
  /** What the author recorded about each accepted helper once it was over. */
  outcomes?: Record<MemberId, Outcome>
}

export interface AnswerRecord {
  id: AnswerId
  post: PostRef
  message: string
  createdAt: number
  /** The helper took their offer back. */
  withdrawnAt?: number
}

export interface CommentRecord {
  id: CommentId
  post: PostRef
  body: string
  createdAt: number
  updatedAt?: number
}

const text = requiredText
const timestamp = v.pipe(v.number(), v.integer(), v.minValue(0))
// Strings in stored records may be Automerge immutable strings (stored.ts): read back as plain ones.
const id = v.pipe(plainString(), v.regex(ID_PATTERN))
const key = v.pipe(v.string(), v.regex(ID_PATTERN))
const docUrl = v.pipe(plainString(), v.regex(DOC_URL_PATTERN))
const coordinate = v.pipe(v.number(), v.finite())

export const postRefSchema = v.looseObject({ feed: docUrl, id })

/** A stored post. Kinds and fields from a newer version are kept and shown as best we can. */
export const postRecordSchema = v.looseObject({
  id,
  kind: plainString(),
  category: plainString(),
  title: text(LIMITS.title),
  body: v.pipe(plainString(), v.maxLength(LIMITS.body)),
  createdAt: timestamp,
  updatedAt: v.optional(timestamp),
  themes: v.optional(v.pipe(v.array(plainString()), v.maxLength(LIMITS.themes))),
  when: v.optional(v.looseObject({ start: timestamp, end: v.optional(timestamp) })),
  expiresAt: v.optional(timestamp),
  place: v.optional(v.looseObject({ lat: v.pipe(coordinate, v.minValue(-90), v.maxValue(90)), lon: v.pipe(coordinate, v.minValue(-180), v.maxValue(180)) })),
  status: v.optional(plainString()),
  closedAt: v.optional(timestamp),
  accepted: v.optional(v.record(key, timestamp)),
  outcomes: v.optional(
    v.record(
      key,
      v.union([
        v.looseObject({ kind: v.pipe(plainString(), v.literal('thanks')), note: v.pipe(plainString(), v.maxLength(LIMITS.thanks)), at: timestamp }),
        v.looseObject({ kind: v.pipe(plainString(), v.literal('no-show')), at: timestamp }),
      ]),
    ),
  ),
})

export const answerRecordSchema = v.looseObject({
  id,
  post: postRefSchema,
  message: v.pipe(plainString(), v.maxLength(LIMITS.answer)),
  createdAt: timestamp,
  withdrawnAt: v.optional(timestamp),
})

export const commentRecordSchema = v.looseObject({
  id,
  post: postRefSchema,
  body: text(LIMITS.comment),
  createdAt: timestamp,
  updatedAt: v.optional(timestamp),
})

/** The feed's envelope; entries are checked one by one so one bad entry does not hide the others. */
export const feedSchema = v.looseObject({
  schemaVersion: v.pipe(v.number(), v.integer(), v.minValue(1)),
  type: v.literal('placette/feed'),
  neighbourhood: docUrl,
  owner: id,
  posts: v.record(v.string(), v.unknown()),
  answers: v.optional(v.record(v.string(), v.unknown())),
  comments: v.optional(v.record(v.string(), v.unknown())),
  signedFrom: v.optional(timestamp),
})

/** Migrations of this document type, run by every reader on load (version.ts). */
export const FEED_MIGRATIONS: readonly Migration<FeedDoc>[] = []

/** Checks a document read from anywhere, migrated first if it is older (the stored document unchanged). */
export function validateFeed(doc: unknown, migrations: readonly Migration<FeedDoc>[] = FEED_MIGRATIONS): Checked<FeedDoc> {
  return check(feedSchema, readAsCurrent(doc, migrations)) as Checked<FeedDoc>
}
export function validatePostRecord(post: unknown): Checked<PostRecord> {
  return check(postRecordSchema, post) as Checked<PostRecord>
}
export function validateAnswerRecord(answer: unknown): Checked<AnswerRecord> {
  return check(answerRecordSchema, answer) as Checked<AnswerRecord>
}
export function validateCommentRecord(comment: unknown): Checked<CommentRecord> {
  return check(commentRecordSchema, comment) as Checked<CommentRecord>
}

/** What a person fills in to post. */
export const postInputSchema = v.object({
  kind: v.picklist(WRITABLE_KINDS),
  category: v.picklist(CATEGORIES),
  title: text(LIMITS.title),
  body: v.pipe(v.string(), v.trim(), v.maxLength(LIMITS.body)),
  themes: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(LIMITS.theme))), v.maxLength(LIMITS.themes))),
  when: v.optional(
    v.pipe(
      v.object({ start: timestamp, end: v.optional(timestamp) }),
      v.check((w) => w.end === undefined || w.end >= w.start, 'the end is before the start'),
    ),
  ),
  expiresAt: v.optional(timestamp),
  place: v.optional(v.object({ lat: v.pipe(coordinate, v.minValue(-90), v.maxValue(90)), lon: v.pipe(coordinate, v.minValue(-180), v.maxValue(180)) })),
})
export type PostInput = v.InferOutput<typeof postInputSchema>

export function checkPostInput(input: unknown): Checked<PostInput> {
  return check(postInputSchema, input)
}

export const answerInputSchema = v.pipe(v.string(), v.trim(), v.maxLength(LIMITS.answer))
export const commentInputSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(LIMITS.comment))
export const thanksInputSchema = v.pipe(v.string(), v.trim(), v.maxLength(LIMITS.thanks))

export function newFeed(neighbourhood: DocUrl, owner: MemberId): FeedDoc {
  return {
    schemaVersion: CURRENT_SCHEMA_VERSION,
    type: 'placette/feed',
    neighbourhood,
    owner,
    posts: {} as Record<PostId, PostRecord>,
    answers: {} as Record<AnswerId, AnswerRecord>,
    comments: {} as Record<CommentId, CommentRecord>,
  }
}

/**
 * Builds the stored post from a person's input; throws a PlacetteError listing every bad field.
 * Optional fields are left out rather than set to undefined (Automerge refuses undefined).
 */
export function newPost(input: unknown, postId: PostId, now: number): PostRecord {
  const valid = assertValid(postInputSchema, input)
  const post: PostRecord = {
    id: postId,
    kind: valid.kind,
    category: valid.category,
    title: valid.title,
    body: valid.body,
    createdAt: now,
    expiresAt: valid.expiresAt ?? now + DEFAULT_EXPIRY_MS,
  }
  if (valid.themes?.length) post.themes = valid.themes
  if (valid.when) post.when = valid.when.end === undefined ? { start: valid.when.start } : { start: valid.when.start, end: valid.when.end }
  // Blurred here, on the author's device: the exact position is never stored.
  if (valid.place) post.place = blurPlace(valid.place)
  return post
}

export const isKnownKind = (kind: string): kind is PostKind => (POST_KINDS as readonly string[]).includes(kind)
export const isKnownCategory = (c: string): c is Category => (CATEGORIES as readonly string[]).includes(c)
