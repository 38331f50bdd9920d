import * as v from 'valibot'
import { DOC_URL_PATTERN, ID_PATTERN, type DocUrl, type MemberId } from '../ids.ts'
import { LIMITS } from '../domain.ts'
import { check, requiredText, type Checked } from '../validate.ts'
import { CURRENT_SCHEMA_VERSION, readAsCurrent, readVersion, type Migration } from './version.ts'

/**
 * The neighbourhood document: one per neighbourhood. Holds its name, its commune, its référents and
 * the member registry (each member's display name and the URL of their feed).
 */
export interface NeighbourhoodDoc {
  schemaVersion: number
  type: 'placette/neighbourhood'
  name: string
  commune: Commune
  createdAt: number
  createdBy: MemberId
  referents: MemberId[]
  members: Record<MemberId, MemberEntry>
}

export interface Commune {
  /** INSEE code, e.g. `01001`, `2A004`. */
  insee: string
  name: string
  postcode: string
}

export interface MemberEntry {
  displayName: string
  joinedAt: number
  feed: DocUrl
  /** The member's Ed25519 public key (base64url); the member ID is derived from it (shared/identity.ts). */
  publicKey?: string
  /** The invitation this member joined with (shared/invitation.ts): anyone can check they were invited. */
  invitation?: string
  /** Newcomers this member vouches for, with when (shared/membership.ts). */
  vouches?: Record<MemberId, number>
  /** Référents this référent named. */
  names?: Record<MemberId, number>
  /** Members this référent revoked. */
  revokes?: Record<MemberId, number>
  /** Set when the member left; their feed is then erased. */
  leftAt?: number
  /** Conversations this member started, under locators only the two members can compute (schema/conversation.ts). */
  conversations?: Record<string, DocUrl>
}

const text = requiredText
const memberId = v.pipe(v.string(), v.regex(ID_PATTERN))
const docUrl = v.pipe(v.string(), v.regex(DOC_URL_PATTERN))
const timestamp = v.pipe(v.number(), v.integer(), v.minValue(0))

export const communeSchema = v.looseObject({
  insee: v.pipe(v.string(), v.regex(/^(\d{5}|2[AB]\d{3})$/)),
  name: text(100),
  postcode: v.pipe(v.string(), v.regex(/^\d{5}$/)),
})

export const memberEntrySchema = v.looseObject({
  displayName: text(LIMITS.displayName),
  joinedAt: timestamp,
  feed: docUrl,
  publicKey: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/))),
  invitation: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  vouches: v.optional(v.record(memberId, timestamp)),
  names: v.optional(v.record(memberId, timestamp)),
  revokes: v.optional(v.record(memberId, timestamp)),
  leftAt: v.optional(timestamp),
  conversations: v.optional(v.record(v.pipe(v.string(), v.maxLength(40)), docUrl)),
})

/** The name a member shows to the neighbourhood (the create, join and profile forms). */
export const displayNameSchema = text(LIMITS.displayName)

/** The "create a neighbourhood" form: its name, the commune chosen from the list, the creator's name. */
export const createNeighbourhoodInputSchema = v.object({
  name: text(LIMITS.neighbourhoodName),
  displayName: displayNameSchema,
  commune: v.object({ insee: communeSchema.entries.insee, name: communeSchema.entries.name, postcode: communeSchema.entries.postcode }),
})
export interface CreateNeighbourhoodInput {
  name: string
  displayName: string
  commune: Commune
}

/** Loose objects: fields written by a newer version are kept, never stripped. */
export const neighbourhoodSchema = v.looseObject({
  schemaVersion: v.pipe(v.number(), v.integer(), v.minValue(1)),
  type: v.literal('placette/neighbourhood'),
  name: text(LIMITS.neighbourhoodName),
  commune: communeSchema,
  createdAt: timestamp,
  createdBy: memberId,
  referents: v.array(memberId),
  members: v.record(memberId, memberEntrySchema),
})

/** Migrations of this document type, run by every reader on load (version.ts). */
export const NEIGHBOURHOOD_MIGRATIONS: readonly Migration<NeighbourhoodDoc>[] = []

/** Checks a document read from anywhere, migrated first if it is older (the stored document unchanged). */
export function validateNeighbourhood(doc: unknown, migrations: readonly Migration<NeighbourhoodDoc>[] = NEIGHBOURHOOD_MIGRATIONS): Checked<NeighbourhoodDoc> {
  return check(neighbourhoodSchema, readAsCurrent(doc, migrations)) as Checked<NeighbourhoodDoc>
}

export function newNeighbourhood(input: {
  name: string
  commune: Commune
  creator: MemberId
  creatorName: string
  creatorFeed: DocUrl
  creatorKey?: string
  now: number
}): NeighbourhoodDoc {
  return {
    schemaVersion: CURRENT_SCHEMA_VERSION,
    type: 'placette/neighbourhood',
    name: input.name.trim(),
    commune: { ...input.commune },
    createdAt: input.now,
    createdBy: input.creator,
    referents: [input.creator],
    members: {
      [input.creator]: {
        displayName: input.creatorName.trim(),
        joinedAt: input.now,
        feed: input.creatorFeed,
        ...(input.creatorKey ? { publicKey: input.creatorKey } : {}),
      },
    } as Record<MemberId, MemberEntry>,
  }
}

export { readVersion }
