/**
 * Private messages, readable only by the two members: each pair derives a key from X25519 (their
 * Ed25519 identity keys converted to Montgomery form) and HKDF, and every entry is sealed with
 * XChaCha20-Poly1305 under a random 24-byte nonce. A relay or a third member holds only ciphertext.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { utf8 } from '@scure/base'
import { PlacetteError, Reason } from './errors.ts'
import type { MemberId } from './ids.ts'

export interface Sealed {
  nonce: Uint8Array
  box: Uint8Array
}

/** The key two members share for their conversation; the same on both sides. */
export function conversationKey(mySecretKey: Uint8Array, theirPublicKey: Uint8Array, me: MemberId, them: MemberId): Uint8Array {
  const shared = x25519.getSharedSecret(ed25519.utils.toMontgomerySecret(mySecretKey), ed25519.utils.toMontgomery(theirPublicKey))
  const pair = [me, them].sort().join(':')
  return hkdf(sha256, shared, undefined, utf8.decode(`placette:dm:v1:${pair}`), 32)
}

export function seal(key: Uint8Array, text: string): Sealed {
  const nonce = randomBytes(24)
  return { nonce, box: xchacha20poly1305(key, nonce).encrypt(utf8.decode(text)) }
}

export function open(key: Uint8Array, sealed: Sealed): string {
  try {
    return utf8.encode(xchacha20poly1305(key, sealed.nonce).decrypt(sealed.box))
  } catch {
    throw new PlacetteError(Reason.notAllowed, 'this message cannot be opened with this key')
  }
}
