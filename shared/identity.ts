/**
 * Member identity: an Ed25519 key pair kept on the member's devices. The member ID is derived from
 * the public key, so a claim "I am member m…" can be checked by anyone holding the public key, and
 * nobody can register someone else's ID. @noble/curves: audited, pure JS, the same on every browser
 * (WebCrypto Ed25519 is not everywhere yet).
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { base58, base64urlnopad, utf8 } from '@scure/base'
import type { MemberId } from './ids.ts'

export interface MemberKeys {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export function generateMemberKeys(): MemberKeys {
  const secretKey = ed25519.utils.randomSecretKey()
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) }
}

/** `m` + 22 base58 characters of the SHA-256 of the public key (128 bits, like a random member ID). */
export function memberIdFor(publicKey: Uint8Array): MemberId {
  const id = base58.encode(sha256(publicKey).subarray(0, 16)).padStart(22, '1').slice(0, 22)
  return `m${id}` as MemberId
}

export const encodeKey = (key: Uint8Array): string => base64urlnopad.encode(key)
export function decodeKey(text: string): Uint8Array | undefined {
  try {
    const key = base64urlnopad.decode(text)
    return key.length === 32 ? key : undefined
  } catch {
    return undefined
  }
}

/** Signs `context` + message: a signature made for one purpose cannot be replayed for another. */
export function sign(context: string, message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed25519.sign(withContext(context, message), secretKey)
}

export function verify(context: string, message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return signature.length === 64 && ed25519.verify(signature, withContext(context, message), publicKey)
  } catch {
    return false
  }
}

function withContext(context: string, message: Uint8Array): Uint8Array {
  const prefix = utf8.decode(`placette:${context}:`)
  const out = new Uint8Array(prefix.length + message.length)
  out.set(prefix)
  out.set(message, prefix.length)
  return out
}

/** Whether `secretKey` is the secret half of `publicKey` (a backup must not pair one member's key with another's). */
export function keysMatch(keys: MemberKeys): boolean {
  try {
    const derived = ed25519.getPublicKey(keys.secretKey)
    return derived.length === keys.publicKey.length && derived.every((b, i) => b === keys.publicKey[i])
  } catch {
    return false
  }
}

/** A signed token: `base64url(JSON) . base64url(signature over it, for one purpose)`. */
export function signToken(context: string, value: unknown, secretKey: Uint8Array): string {
  const body = utf8.decode(JSON.stringify(value))
  return `${base64urlnopad.encode(body)}.${base64urlnopad.encode(sign(context, body, secretKey))}`
}

/** Splits and decodes a signed token without checking it; undefined if it is not one. */
export function openToken(token: string): { body: Uint8Array; signature: Uint8Array; value: unknown } | undefined {
  const [b, s, extra] = token.trim().split('.')
  if (!b || !s || extra !== undefined) return undefined
  try {
    const body = base64urlnopad.decode(b)
    return { body, signature: base64urlnopad.decode(s), value: JSON.parse(utf8.encode(body)) }
  } catch {
    return undefined
  }
}
