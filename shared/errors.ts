/**
 * Named errors with a machine-readable reason. The UI turns reasons into words in one place
 * (client/i18n), so a reason never reaches a person as a raw string.
 */
export const Reason = {
  invalidInput: 'invalid-input',
  invalidDocument: 'invalid-document',
  newerSchema: 'newer-schema',
  notFound: 'not-found',
  notAllowed: 'not-allowed',
  expired: 'expired',
  storageFailed: 'storage-failed',
  malformedFrame: 'malformed-frame',
  frameTooLarge: 'frame-too-large',
  protocolViolation: 'protocol-violation',
  // Sync files (shared/syncfile.ts).
  notSyncFile: 'not-sync-file',
  corruptFile: 'corrupt-file',
  fileTooLarge: 'file-too-large',
  newerFile: 'newer-file',
  foreignFile: 'foreign-file',
  // Profile backups (shared/backup.ts): each file type refused by the other's door, with directions.
  backupFile: 'backup-file',
  notBackupFile: 'not-backup-file',
  // Help lifecycle refusals (shared/lifecycle.ts).
  ownPost: 'own-post',
  notAuthor: 'not-author',
  closed: 'closed',
  notHelpKind: 'not-help-kind',
  notAnswered: 'not-answered',
  notAccepted: 'not-accepted',
  notOver: 'not-over',
  stillOpen: 'still-open',
} as const

export type Reason = (typeof Reason)[keyof typeof Reason]

/** One problem with one field of a form, a message or a document. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `title` or `posts.p123.kind`; empty for the whole value. */
  path: string
  /** What is wrong, in plain English for logs; the UI shows `code` through i18n. */
  message: string
  /** Stable code for the UI: `required`, `too-long`, `too-short`, `not-allowed`, `wrong-type`. */
  code: IssueCode
}
export type IssueCode = 'required' | 'too-long' | 'too-short' | 'not-allowed' | 'wrong-type'

export class PlacetteError extends Error {
  readonly reason: Reason
  readonly issues: readonly FieldIssue[]
  constructor(reason: Reason, message: string, issues: readonly FieldIssue[] = []) {
    super(message)
    this.name = 'PlacetteError'
    this.reason = reason
    this.issues = issues
  }
}

/** Throws a PlacetteError: for checks written as expressions (`… ? x : refuse(reason, why)`). */
export function refuse(reason: Reason, message: string): never {
  throw new PlacetteError(reason, message)
}

export function isPlacetteError(e: unknown): e is PlacetteError {
  return e instanceof PlacetteError
}

/** A QuotaExceededError, as IndexedDB throws it or as Dexie wraps it (in `inner`, maybe twice). */
export function isQuotaError(e: unknown): boolean {
  for (let err = e as { name?: unknown; inner?: unknown } | undefined, depth = 0; err && depth < 4; err = err.inner as typeof err, depth++) {
    if (err.name === 'QuotaExceededError') return true
  }
  return false
}
