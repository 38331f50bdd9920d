/**
 * Linking a second device to the same member (a phone and a tablet): the first device shows a QR code
 * whose link carries, in its #fragment (never sent to any server), the member's keys and where their
 * documents are. Whoever sees that code can act as the member, so it is shown only on request, for a
 * short time, with a plain warning. Checked whole here before the new device keeps anything.
 */
import * as v from 'valibot'
import { base64urlnopad, utf8 } from '@scure/base'
import { ed25519 } from '@noble/curves/ed25519.js'
import { PlacetteError, Reason } from './errors.ts'
import { memberIdFor, type MemberKeys } from './identity.ts'
import { LIMITS } from './domain.ts'
import type { DocUrl, MemberId } from './ids.ts'

const docId = v.pipe(v.string(), v.regex(/^[1-9A-HJ-NP-Za-km-z]{20,60}$/))
const schema = v.object({
  v: v.literal(1),
  n: docId,
  f: docId,
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(LIMITS.displayName)),
  sk: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/)),
  exp: v.pipe(v.number(), v.integer()),
  inv: v.optional(v.pipe(v.string(), v.maxLength(1500))),
})

/** How long a shown code works. */
export const DEVICE_LINK_TTL_MS = 10 * 60_000

export interface DeviceLink {
  id: MemberId
  keys: MemberKeys
  displayName: string
  neighbourhood: DocUrl
  feed: DocUrl
  invitation?: string
}

export function createDeviceLink(link: DeviceLink, now: number): string {
  const body = { v: 1, n: link.neighbourhood.slice('automerge:'.length), f: link.feed.slice('automerge:'.length), name: link.displayName, sk: base64urlnopad.encode(link.keys.secretKey), exp: now + DEVICE_LINK_TTL_MS, ...(link.invitation ? { inv: link.invitation } : {}) }
  return base64urlnopad.encode(utf8.decode(JSON.stringify(body)))
}

/** Reads a link's token; throws a PlacetteError saying what is wrong (damaged, or too old). */
export function readDeviceLink(token: string, now: number): DeviceLink {
  let value: unknown
  try {
    value = JSON.parse(utf8.encode(base64urlnopad.decode(token.trim())))
  } catch {
    throw new PlacetteError(Reason.invalidInput, 'damaged device link')
  }
  const parsed = v.safeParse(schema, value)
  if (!parsed.success) throw new PlacetteError(Reason.invalidInput, 'damaged device link')
  const body = parsed.output
  if (body.exp < now) throw new PlacetteError(Reason.expired, 'this code is too old: show a new one')
  const secretKey = base64urlnopad.decode(body.sk)
  const publicKey = ed25519.getPublicKey(secretKey)
  return {
    id: memberIdFor(publicKey),
    keys: { secretKey, publicKey },
    displayName: body.name,
    neighbourhood: `automerge:${body.n}` as DocUrl,
    feed: `automerge:${body.f}` as DocUrl,
    ...(body.inv ? { invitation: body.inv } : {}),
  }
}
