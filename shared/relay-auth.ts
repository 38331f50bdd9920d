/**
 * Signing in to a relay. The device fetches a fresh challenge (`GET /auth/challenge`), signs it with
 * the member's key together with the peer ID it will use, and opens the sync WebSocket with the
 * result in the `auth` query parameter (a browser cannot set headers on a WebSocket). The relay
 * checks it at upgrade, binds the peer ID to the member, and serves only what that member may see.
 *
 * The same token carries the neighbourhoods the member belongs to (so the relay loads their registries
 * up front) and any invitation the device holds (so a newcomer can read the neighbourhood and add
 * themselves). A relay peering upstream signs in the same way with its own key.
 *
 * The relay's answer to a member's join carries a ticket (`placetteTicket`): a challenge for that
 * member's next connection, so that a device coming back within the hour signs it instead of fetching
 * a challenge first (sync-server/access/challenges.ts).
 */
import * as v from 'valibot'
import { decodeKey, encodeKey, memberIdFor, openToken, signToken, verify, type MemberKeys } from './identity.ts'
import type { MemberId } from './ids.ts'

export const AUTH_CHALLENGE_PATH = '/auth/challenge'
export const AUTH_QUERY = 'auth'
/** How long the relay honours a ticket (its challenge for a member's next sign-in) after handing it out. */
export const TICKET_TTL_MS = 3_600_000
const CONTEXT = 'relay-auth:v1'
/** A token is small: a URL longer than a few KB is refused by some proxies. */
export const MAX_AUTH_TOKEN_CHARS = 6000

export interface RelayAuth {
  v: 1
  /** The member (or relay) signing in: derived from `key`. */
  id: MemberId
  /** Ed25519 public key, base64url. */
  key: string
  /** The automerge-repo peer ID this socket will join with. */
  peer: string
  /** The relay's challenge, as it gave it. */
  challenge: string
  /** Neighbourhood document IDs (no `automerge:` prefix) the member belongs to. */
  n?: string[]
  /** Invitation tokens the device holds. */
  inv?: string[]
}

const docId = v.pipe(v.string(), v.regex(/^[1-9A-HJ-NP-Za-km-z]{20,60}$/))
const authSchema = v.object({
  v: v.literal(1),
  id: v.pipe(v.string(), v.regex(/^[mr][1-9A-HJ-NP-Za-km-z]{22}$/)),
  key: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/)),
  peer: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  challenge: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  n: v.optional(v.pipe(v.array(docId), v.maxLength(20))),
  inv: v.optional(v.pipe(v.array(v.pipe(v.string(), v.maxLength(1500))), v.maxLength(5))),
})

export function createRelayAuth(input: Omit<RelayAuth, 'v' | 'id' | 'key'>, keys: MemberKeys, idFor: (publicKey: Uint8Array) => MemberId = memberIdFor): string {
  const auth: RelayAuth = { v: 1, id: idFor(keys.publicKey), key: encodeKey(keys.publicKey), ...input }
  return signToken(CONTEXT, auth, keys.secretKey)
}

export type AuthCheck = { ok: true; auth: RelayAuth } | { ok: false; reason: 'missing' | 'malformed' | 'forged' }

/** Checks the token's form and signature (the challenge is the relay's to check). */
export function verifyRelayAuth(token: string | null | undefined, idFor: (publicKey: Uint8Array) => MemberId = memberIdFor): AuthCheck {
  if (!token) return { ok: false, reason: 'missing' }
  if (token.length > MAX_AUTH_TOKEN_CHARS) return { ok: false, reason: 'malformed' }
  const opened = openToken(token)
  if (!opened) return { ok: false, reason: 'malformed' }
  const { body, signature } = opened
  const parsed = v.safeParse(authSchema, opened.value)
  if (!parsed.success) return { ok: false, reason: 'malformed' }
  const auth = parsed.output as RelayAuth
  const key = decodeKey(auth.key)
  if (!key || idFor(key) !== auth.id || !verify(CONTEXT, body, signature, key)) return { ok: false, reason: 'forged' }
  return { ok: true, auth }
}

/** A relay's own ID: like a member's, with an `r`, so it can never be taken for a member. */
export function relayIdFor(publicKey: Uint8Array): MemberId {
  return `r${memberIdFor(publicKey).slice(1)}` as MemberId
}

/** A fresh challenge from the relay of `wsUrl`; throws when the relay cannot be reached. */
export async function fetchChallenge(wsUrl: string, fetchFn: typeof fetch = fetch): Promise<string> {
  const url = new URL(wsUrl)
  const challengeUrl = new URL(AUTH_CHALLENGE_PATH, `${url.protocol === 'wss:' ? 'https:' : 'http:'}//${url.host}`)
  const response = await fetchFn(challengeUrl, { cache: 'no-store' })
  if (!response.ok) throw new Error(`relay challenge: HTTP ${response.status}`)
  const { challenge } = (await response.json()) as { challenge?: unknown }
  if (typeof challenge !== 'string' || challenge.length > 200) throw new Error('relay challenge: malformed')
  return challenge
}

/**
 * The sync URL to open, signed in: fetches a fresh challenge from the relay (over HTTP on the same
 * host), signs it with the peer ID and returns `wsUrl?auth=…`. Used by devices, by relays peering
 * upstream, and by tests. `options.challenge`: a ticket the relay gave this member at its last join
 * (`placetteTicket`), signed instead of fetching a challenge.
 */
export async function signedSyncUrl(
  wsUrl: string,
  input: { peer: string; n?: string[]; inv?: string[] },
  keys: MemberKeys,
  options: { idFor?: (publicKey: Uint8Array) => MemberId; fetch?: typeof fetch; challenge?: string } = {},
): Promise<string> {
  const url = new URL(wsUrl)
  const challenge = options.challenge ?? (await fetchChallenge(wsUrl, options.fetch))
  const token = createRelayAuth({ peer: input.peer, challenge, ...(input.n?.length ? { n: input.n } : {}), ...(input.inv?.length ? { inv: input.inv } : {}) }, keys, options.idFor)
  url.searchParams.set(AUTH_QUERY, token)
  return url.toString()
}
