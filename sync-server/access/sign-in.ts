/**
 * Signing sockets in at upgrade (shared/relay-auth.ts): the challenge must be genuine, fresh and
 * unused, the token signed by the key it names, the page from this relay's own site (or one listed
 * with `--allow-origin`), and a relay signing in must be listed with `--trust-relay`. Also the
 * relay's own key, with which it signs in to its upstreams.
 */
import type { IncomingMessage } from 'node:http'
import type { StorageAdapterInterface } from '@automerge/automerge-repo'
import { AUTH_QUERY, relayIdFor, signedSyncUrl, verifyRelayAuth } from '../../shared/relay-auth.ts'
import { encodeKey, generateMemberKeys, memberIdFor, type MemberKeys } from '../../shared/identity.ts'
import type { Logger } from '../log.ts'
import type { Gatekeeper } from '../network/ws-server-adapter.ts'
import type { Challenges } from './challenges.ts'
import type { Gate, Session } from './gate.ts'

export function createGatekeeper(options: {
  gate: Gate
  challenges: Challenges
  trustRelays: readonly string[]
  allowOrigins: readonly string[]
  log: Logger
}): Gatekeeper {
  const { gate, challenges } = options
  const trusted = new Set(options.trustRelays)
  const allowedOrigins = new Set(options.allowOrigins.map((o) => o.replace(/\/$/, '')))
  return {
    async signIn(request: IncomingMessage) {
      const origin = request.headers.origin
      // Pages of another site must not sign in on someone's behalf. Non-browser clients send no Origin.
      if (origin !== undefined && !sameSite(origin, request.headers.host) && !allowedOrigins.has(origin)) {
        return { ok: false, reason: 'origin not allowed' }
      }
      const token = new URL(request.url ?? '/', 'http://relay').searchParams.get(AUTH_QUERY)
      const isRelay = token ? peekIsRelay(token) : false
      const check = verifyRelayAuth(token, isRelay ? relayIdFor : memberIdFor)
      if (!check.ok) return { ok: false, reason: check.reason === 'missing' ? 'sign-in required' : `sign-in ${check.reason}` }
      // A ticket (the relay's answer to an earlier join) is taken only from the member it was given to.
      if (!challenges.consume(check.auth.challenge, check.auth.id)) return { ok: false, reason: 'sign-in expired' }
      if (isRelay && !trusted.has(check.auth.key)) return { ok: false, reason: 'relay not trusted' }
      const session: Session = {
        id: check.auth.id,
        peer: check.auth.peer,
        trusted: isRelay,
        neighbourhoods: check.auth.n ?? [],
        invitations: check.auth.inv ?? [],
      }
      return { ok: true, session }
    },
    async admit(session) {
      const verdict = await gate.admitSession(session)
      if (verdict.ok) gate.bind(session)
      return verdict
    },
    checkWrite: (peer, message) => gate.checkWrite(peer, message as { type: string; documentId?: string; data?: Uint8Array }),
    leave: (session) => gate.unbind(session),
  }
}

function sameSite(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host
  } catch {
    return false
  }
}

/** Relays sign in with IDs starting with `r` (shared/relay-auth.ts). */
function peekIsRelay(token: string): boolean {
  try {
    const body = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { id?: unknown }
    return typeof body.id === 'string' && body.id.startsWith('r')
  } catch {
    return false
  }
}

const KEY_KEY = ['placette-relay', 'key']

/** The relay's own key pair, made on first start and kept with its documents. */
export async function loadRelayKeys(storage: StorageAdapterInterface, log: Logger): Promise<MemberKeys> {
  const stored = await storage.load(KEY_KEY)
  if (stored && stored.length === 64) return { secretKey: stored.slice(0, 32), publicKey: stored.slice(32) }
  const keys = generateMemberKeys()
  const bytes = new Uint8Array(64)
  bytes.set(keys.secretKey)
  bytes.set(keys.publicKey, 32)
  await storage.save(KEY_KEY, bytes)
  log.info('relay key created', { publicKey: encodeKey(keys.publicKey) })
  return keys
}

/** What an `UpstreamAdapter` calls to open a signed-in connection. */
export const relaySignIn =
  (keys: MemberKeys) =>
  (url: string, peer: string): Promise<string> =>
    signedSyncUrl(url, { peer }, keys, { idFor: relayIdFor })
