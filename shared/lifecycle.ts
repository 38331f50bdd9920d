/**
 * The help lifecycle's rules, in one place for the UI (which buttons to show) and the commands (which
 * refuse with a named reason). open → answers ("I can help") → the author accepts one or more helpers
 * → done, cancelled or expired → the author thanks each helper or records a no-show.
 *
 * Every rule reads a *state assembled from every feed*, so two devices that made decisions offline
 * converge on the same answer once they have each other's feeds.
 */
import { Reason } from './errors.ts'
import { isHelpKind } from './domain.ts'
import type { MemberId } from './ids.ts'
import type { Outcome, PostStatus } from './schema/feed.ts'

export type DerivedStatus = 'open' | 'in-progress' | 'done' | 'cancelled' | 'expired'

export interface PostState {
  author: MemberId
  kind: string
  status?: PostStatus | string
  expiresAt?: number
  closedAt?: number
  accepted?: Readonly<Record<string, number>>
  outcomes?: Readonly<Record<string, Outcome>>
  /** Members with a live (not withdrawn) answer. */
  helpers: readonly MemberId[]
}

export type Decision = { ok: true } | { ok: false; reason: Reason }
const OK: Decision = { ok: true }
const no = (reason: Reason): Decision => ({ ok: false, reason })

/** Status as people see it. An unknown status from a newer version reads as closed (done). */
export function deriveStatus(p: Pick<PostState, 'status' | 'expiresAt' | 'accepted'>, now: number): DerivedStatus {
  if (p.status === 'cancelled') return 'cancelled'
  if (p.status !== undefined && p.status !== 'open') return 'done'
  if (p.expiresAt !== undefined && p.expiresAt < now) return 'expired'
  return Object.keys(p.accepted ?? {}).length ? 'in-progress' : 'open'
}

export const isClosed = (s: DerivedStatus): boolean => s === 'done' || s === 'cancelled' || s === 'expired'

export function canAnswer(p: PostState, me: MemberId, now: number): Decision {
  if (!isHelpKind(p.kind)) return no(Reason.notHelpKind)
  if (p.author === me) return no(Reason.ownPost)
  if (isClosed(deriveStatus(p, now))) return no(Reason.closed)
  return OK
}

export function canAccept(p: PostState, me: MemberId, helper: MemberId, now: number): Decision {
  if (p.author !== me) return no(Reason.notAuthor)
  if (isClosed(deriveStatus(p, now))) return no(Reason.closed)
  if (!p.helpers.includes(helper)) return no(Reason.notAnswered)
  return OK
}

/** Done or cancelled: only the author, only while not already done or cancelled (an expired post can be closed). */
export function canClose(p: PostState, me: MemberId, now: number): Decision {
  if (p.author !== me) return no(Reason.notAuthor)
  const s = deriveStatus(p, now)
  if (s === 'done' || s === 'cancelled') return no(Reason.closed)
  return OK
}

/** "Still needed?": the author extends an open or expired post. */
export function canRenew(p: PostState, me: MemberId, now: number): Decision {
  if (p.author !== me) return no(Reason.notAuthor)
  const s = deriveStatus(p, now)
  if (s === 'done' || s === 'cancelled') return no(Reason.closed)
  return OK
}

/** Thanks or no-show: the author, about a helper they accepted, once the post is done. */
export function canRecordOutcome(p: PostState, me: MemberId, helper: MemberId, now: number): Decision {
  if (p.author !== me) return no(Reason.notAuthor)
  if (!(helper in (p.accepted ?? {}))) return no(Reason.notAccepted)
  if (deriveStatus(p, now) !== 'done') return no(Reason.notOver)
  return OK
}
