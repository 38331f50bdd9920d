import * as v from 'valibot'
import { DOC_URL_PATTERN, ID_PATTERN, type DocUrl, type MemberId, type PostId } from '../ids.ts'
import { CATEGORIES, LIMITS, POST_KINDS, WRITABLE_KINDS, type Category, type PostKind } from '../domain.ts'
import { assertValid, check, plainString, requiredText, type Checked } from '../validate.ts'
import { CURRENT_SCHEMA_VERSION } from './version.ts'

/**
 * A member feed: one per member per neighbourhood, written only by that member. Everything the member
 * writes lives here; the board is the union of the feeds, assembled by the projector.
 */
export interface FeedDoc {
  schemaVersion: number
  type: 'placette/feed'
  neighbourhood: DocUrl
  owner: MemberId
  posts: Record<PostId, PostRecord>
}

export interface PostRecord {
  id: PostId
  kind: PostKind
  category: Category
  title: string
  body: string
  createdAt: number
  updatedAt?: number
}

const text = requiredText
const timestamp = v.pipe(v.number(), v.integer(), v.minValue(0))

/** A stored post. Kinds from a newer version are kept as unknown and shown as best we can. */
export const postRecordSchema = v.looseObject({
  id: v.pipe(v.string(), v.regex(ID_PATTERN)),
  kind: v.string(),
  category: v.string(),
  title: text(LIMITS.title),
  body: v.pipe(plainString(), v.maxLength(LIMITS.body)),
  createdAt: timestamp,
  updatedAt: v.optional(timestamp),
})

/** The feed's envelope; posts are checked one by one so one bad post does not hide the others. */
export const feedSchema = v.looseObject({
  schemaVersion: v.pipe(v.number(), v.integer(), v.minValue(1)),
  type: v.literal('placette/feed'),
  neighbourhood: v.pipe(v.string(), v.regex(DOC_URL_PATTERN)),
  owner: v.pipe(v.string(), v.regex(ID_PATTERN)),
  posts: v.record(v.string(), v.unknown()),
})

export function validateFeed(doc: unknown): Checked<FeedDoc> {
  return check(feedSchema, doc) as Checked<FeedDoc>
}

export function validatePostRecord(post: unknown): Checked<PostRecord> {
  return check(postRecordSchema, post) as Checked<PostRecord>
}

/** What a person fills in to post. */
export const postInputSchema = v.object({
  kind: v.picklist(WRITABLE_KINDS),
  category: v.picklist(CATEGORIES),
  title: text(LIMITS.title),
  body: v.pipe(v.string(), v.trim(), v.maxLength(LIMITS.body)),
})
export type PostInput = v.InferOutput<typeof postInputSchema>

export function checkPostInput(input: unknown): Checked<PostInput> {
  return check(postInputSchema, input)
}

export function newFeed(neighbourhood: DocUrl, owner: MemberId): FeedDoc {
  return {
    schemaVersion: CURRENT_SCHEMA_VERSION,
    type: 'placette/feed',
    neighbourhood,
    owner,
    posts: {} as Record<PostId, PostRecord>,
  }
}

/** Builds the stored post from a person's input; throws a PlacetteError listing every bad field. */
export function newPost(input: unknown, id: PostId, now: number): PostRecord {
  const valid = assertValid(postInputSchema, input)
  return { id, ...valid, createdAt: now }
}

export const isKnownKind = (kind: string): kind is PostKind => (POST_KINDS as readonly string[]).includes(kind)
export const isKnownCategory = (c: string): c is Category => (CATEGORIES as readonly string[]).includes(c)
