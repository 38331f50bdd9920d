/**
 * A private conversation between two members: one document per pair, holding only sealed entries
 * (shared/sealed.ts). The relay serves it to those two members only (sync-server/access/gate.ts) and
 * stores ciphertext; each entry says who wrote it, and each member writes only their own.
 *
 * The two find it without telling anyone else who talks to whom: the creator lists it in their
 * registry entry under a locator derived from the pair's shared key (`conversationLocator`), which
 * only the two of them can compute.
 */
import * as v from 'valibot'
import { base64urlnopad } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { DOC_URL_PATTERN, ID_PATTERN, randomId, type DocUrl, type MemberId } from '../ids.ts'
import { LIMITS } from '../domain.ts'
import { check, type Checked } from '../validate.ts'
import { seal, open, type Sealed } from '../sealed.ts'
import { CURRENT_SCHEMA_VERSION, readAsCurrent, type Migration } from './version.ts'

export interface SealedEntry {
  from: MemberId
  at: number
  /** base64url of the 24-byte nonce and of the XChaCha20-Poly1305 box. */
  nonce: string
  box: string
}

export interface ConversationDoc {
  schemaVersion: number
  type: 'placette/conversation'
  neighbourhood: DocUrl
  /** The two members, sorted. */
  members: [MemberId, MemberId]
  entries: Record<string, SealedEntry>
}

const memberId = v.pipe(v.string(), v.regex(ID_PATTERN))
const b64 = (max: number) => v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/), v.maxLength(max))
export const sealedEntrySchema = v.looseObject({
  from: memberId,
  at: v.pipe(v.number(), v.integer(), v.minValue(0)),
  nonce: b64(40),
  box: b64(Math.ceil(((LIMITS.body * 4 + 16) * 4) / 3) + 4),
})
export const conversationSchema = v.looseObject({
  schemaVersion: v.pipe(v.number(), v.integer(), v.minValue(1)),
  type: v.literal('placette/conversation'),
  neighbourhood: v.pipe(v.string(), v.regex(DOC_URL_PATTERN)),
  members: v.pipe(v.array(memberId), v.length(2)),
  entries: v.record(v.string(), sealedEntrySchema),
})

/** Migrations of this document type, run by every reader on load (version.ts). */
export const CONVERSATION_MIGRATIONS: readonly Migration<ConversationDoc>[] = []

/** Checks a document read from anywhere, migrated first if it is older (the stored document unchanged). */
export function validateConversation(doc: unknown, migrations: readonly Migration<ConversationDoc>[] = CONVERSATION_MIGRATIONS): Checked<ConversationDoc> {
  return check(conversationSchema, readAsCurrent(doc, migrations)) as Checked<ConversationDoc>
}

export function newConversation(neighbourhood: DocUrl, a: MemberId, b: MemberId): ConversationDoc {
  return { schemaVersion: CURRENT_SCHEMA_VERSION, type: 'placette/conversation', neighbourhood, members: [a, b].sort() as [MemberId, MemberId], entries: {} }
}

/** Where the pair's conversation is listed: a name only the two members can compute. */
export function conversationLocator(key: Uint8Array): string {
  const input = new Uint8Array(key.length + 7)
  input.set(key)
  input.set(new TextEncoder().encode('locator'), key.length)
  return `k${base64urlnopad.encode(sha256(input).subarray(0, 16))}`
}

export const newEntryId = (): string => `e${randomId()}`

export function sealEntry(key: Uint8Array, from: MemberId, text: string, at: number): SealedEntry {
  const sealed = seal(key, text)
  return { from, at, nonce: base64urlnopad.encode(sealed.nonce), box: base64urlnopad.encode(sealed.box) }
}

/** The text of an entry, or undefined if it cannot be opened with this key (damaged, or not ours). */
export function openEntry(key: Uint8Array, entry: SealedEntry): string | undefined {
  try {
    const sealed: Sealed = { nonce: base64urlnopad.decode(entry.nonce), box: base64urlnopad.decode(entry.box) }
    return open(key, sealed)
  } catch {
    return undefined
  }
}

/** What a person may send: some text, not too long. */
export const messageInputSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(2000))
