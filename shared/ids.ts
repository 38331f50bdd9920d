/**
 * Branded identifiers, so a member ID cannot be passed where a post ID is expected.
 * Links between documents are Automerge URLs (`automerge:<documentId>`).
 */
export type MemberId = string & { readonly __brand: 'MemberId' }
export type PostId = string & { readonly __brand: 'PostId' }
export type AnswerId = string & { readonly __brand: 'AnswerId' }
export type CommentId = string & { readonly __brand: 'CommentId' }
/** An Automerge URL, as automerge-repo prints it: `automerge:` followed by a base58check document ID. */
export type DocUrl = `automerge:${string}`

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/**
 * A random identifier of 22 base58 characters (about 128 bits).
 * Uses `crypto.getRandomValues`, which (unlike `randomUUID`) also exists on plain-HTTP pages,
 * such as a relay reached by its address on the town hall's Wi-Fi.
 */
export function randomId(length = 22): string {
  const bytes = new Uint8Array(length)
  crypto.getRandomValues(bytes)
  let out = ''
  // A small modulo bias (256 is not a multiple of 58) is harmless for identifiers.
  for (const b of bytes) out += ALPHABET[b % 58]
  return out
}

export const newMemberId = (): MemberId => `m${randomId()}` as MemberId
export const newPostId = (): PostId => `p${randomId()}` as PostId
export const newAnswerId = (): AnswerId => `a${randomId()}` as AnswerId
export const newCommentId = (): CommentId => `c${randomId()}` as CommentId

/** Member, post, answer and comment IDs: a one-letter prefix and 22 base58 characters. */
export const ID_PATTERN = /^[mpac][1-9A-HJ-NP-Za-km-z]{22}$/
export const DOC_URL_PATTERN = /^automerge:[1-9A-HJ-NP-Za-km-z]{20,60}$/

export function isDocUrl(value: unknown): value is DocUrl {
  return typeof value === 'string' && DOC_URL_PATTERN.test(value)
}

/** The document ID part of an Automerge URL. */
export function docIdOf(url: DocUrl): string {
  return url.slice('automerge:'.length)
}
