/**
 * What libraries print goes into the relay's log as JSON lines, summed up.
 *
 * automerge-repo 2.5.6 reports what it could not do with `console.log`: "error receiving message"
 * with the error and the whole message (a multi-line dump per message), "error waiting for … to be in
 * one of states: ready", "caught whenready", and so on. On a relay those break the one-JSON-object-
 * per-line log (sync-server/log.ts) that journald and log shippers parse, and any client can trigger
 * them at will: the fuzz test's 100,000 frames printed about 7,100 such dumps and 540 waits. The one
 * that mattered (a document left stuck for everyone, sync-server/README.md) was buried in them.
 *
 * Here each kind of line (its text and error with IDs and numbers taken out) is logged at `warn` the first time,
 * with what helps (the error's name and message, the message's type, sender and document, never its
 * bytes), then summed up at most once a minute per kind: `times` since the last line.
 */
import type { Logger } from './log.ts'

const SUMMARY_EVERY_MS = 60_000
/** Kinds remembered at most; past it they are forgotten at once. */
const MAX_KINDS = 100
/** New kinds logged at once per minute; more are summed up as one kind (the log stays bounded). */
const MAX_NEW_KINDS_PER_MINUTE = 20

/**
 * Decides which occurrences of a kind of event get a log line: the first, then at most one a minute,
 * saying how many there were since the last line. Also used for the repo's unhandled waits (rejections.ts).
 */
export interface Summarizer {
  (kind: string): { first: boolean; times: number; sinceMs?: number } | undefined
  /** Whether this kind was seen (and not forgotten). */
  knows(kind: string): boolean
}

export function summarizer(now: () => number = Date.now): Summarizer {
  const kinds = new Map<string, { last: number; pending: number }>()
  const note = (kind: string) => {
    const t = now()
    let seen = kinds.get(kind)
    if (!seen) {
      if (kinds.size >= MAX_KINDS) kinds.clear()
      kinds.set(kind, (seen = { last: -Infinity, pending: 0 }))
    }
    seen.pending++
    if (t - seen.last < SUMMARY_EVERY_MS) return undefined
    const first = !Number.isFinite(seen.last)
    const line = { first, times: seen.pending, ...(first ? {} : { sinceMs: t - seen.last }) }
    seen.pending = 0
    seen.last = t
    return line
  }
  return Object.assign(note, { knows: (kind: string) => kinds.has(kind) })
}

/** The line's text with IDs and counts replaced, so lines about different documents share a kind. */
export const kindOf = (text: string): string =>
  text
    .replace(/[0-9A-Za-z_-]{16,}/g, '…')
    .replace(/\d+/g, '#')
    .slice(0, 200)

interface Said {
  text: string
  fields: Record<string, unknown>
}

/** What of console.log's arguments is worth a log line: text, and the error and message if given. */
function describe(args: readonly unknown[]): Said {
  const [first, ...rest] = args
  const text = typeof first === 'string' ? first : String(first)
  const fields: Record<string, unknown> = {}
  for (const arg of rest) {
    const value = arg instanceof Error ? { err: arg } : arg
    if (typeof value !== 'object' || value === null) continue
    const { err, message, peerId, documentId } = value as Record<string, unknown>
    if (err instanceof Error) fields.err = `${err.name}: ${err.message}`.slice(0, 300)
    if (typeof message === 'object' && message !== null) {
      const m = message as Record<string, unknown>
      for (const key of ['type', 'senderId', 'documentId'] as const) if (typeof m[key] === 'string') fields[key] = m[key]
    }
    if (typeof peerId === 'string') fields.peer = peerId
    if (typeof documentId === 'string') fields.documentId = documentId
  }
  return { text: text.slice(0, 300), fields }
}

/**
 * Routes `target.log` and `target.warn` (the process's console) into `log`. Returns a function that
 * puts them back. `console.error` is left alone: the relay writes its one human line with it.
 */
export function routeLibraryOutput(log: Logger, target: Pick<Console, 'log' | 'warn'> = console, now: () => number = Date.now): () => void {
  const summary = summarizer(now)
  /** Kinds first seen this minute: past {@link MAX_NEW_KINDS_PER_MINUTE}, new ones are summed up as one. */
  let fresh = { since: -Infinity, count: 0 }
  const said = (...args: unknown[]) => {
    let described: Said
    try {
      described = describe(args)
    } catch {
      described = { text: 'unprintable library output', fields: {} }
    }
    const { text, fields } = described
    // The error is part of the kind: a new failure must not hide among garbage a client sends.
    let kind = kindOf(`${text} ${typeof fields.err === 'string' ? fields.err : ''}`)
    const t = now()
    if (t - fresh.since >= SUMMARY_EVERY_MS) fresh = { since: t, count: 0 }
    if (!summary.knows(kind) && ++fresh.count > MAX_NEW_KINDS_PER_MINUTE) kind = 'other library output'
    const line = summary(kind)
    if (line) log.warn('a library said', { said: text, ...fields, ...(line.first ? {} : { times: line.times, sinceMs: line.sinceMs }) })
  }
  const original = { log: target.log, warn: target.warn }
  target.log = said
  target.warn = said
  return () => {
    target.log = original.log
    target.warn = original.warn
  }
}
