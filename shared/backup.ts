/**
 * A profile backup: everything a person needs to be themselves again on a new device, with no
 * network. Same container as the sync file (gzipped CBOR, `format` + `version`, a list of saved
 * Automerge documents: see shared/syncfile.ts), plus the profile and its secret key:
 *   { format: 'placette-backup', version: 1, createdAt, profile: {…, keys}, settings: { language }, docs }
 * Because it carries the secret key, it is never offered through the share flow; the person is
 * told that whoever holds it can act as them. This module checks the container and the profile;
 * the client checks that every document loads and belongs (client/sync/backup.ts).
 */
import * as v from 'valibot'
import { Reason, refuse } from './errors.ts'
import { DOC_URL_PATTERN, ID_PATTERN, type DocUrl, type MemberId } from './ids.ts'
import { LIMITS } from './domain.ts'
import { keysMatch, memberIdFor } from './identity.ts'
import { SYNC_FILE_FORMAT, checkEnvelope, checkFileDocs, fileSlug, type SyncFileDoc } from './syncfile.ts'
import { check } from './validate.ts'

export const BACKUP_FORMAT = 'placette-backup'
export const BACKUP_VERSION = 1
export const BACKUP_EXTENSION = '.placette-profil'
export const BACKUP_MIME = 'application/x-placette-backup'

const key32 = v.pipe(v.instance(Uint8Array), v.check((k) => k.byteLength === 32, 'a key is 32 bytes'))
const docUrl = v.pipe(v.string(), v.regex(DOC_URL_PATTERN))

const profileSchema = v.object({
  id: v.pipe(v.string(), v.regex(ID_PATTERN), v.startsWith('m')),
  displayName: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(LIMITS.displayName)),
  neighbourhood: docUrl,
  feed: docUrl,
  createdAt: v.pipe(v.number(), v.finite()),
  /** Profiles made before member keys existed have none. */
  keys: v.optional(v.object({ publicKey: key32, secretKey: key32 })),
})

const settingsSchema = v.object({
  language: v.optional(v.picklist(['fr', 'en'])),
})

export interface BackupProfile {
  id: MemberId
  displayName: string
  neighbourhood: DocUrl
  feed: DocUrl
  createdAt: number
  keys?: { publicKey: Uint8Array; secretKey: Uint8Array }
}
export type BackupSettings = v.InferOutput<typeof settingsSchema>

export interface BackupContents {
  format: typeof BACKUP_FORMAT
  version: number
  createdAt: number
  profile: BackupProfile
  settings: BackupSettings
  docs: SyncFileDoc[]
}

const fail = refuse

/**
 * Checks a decoded backup whole: the envelope, the profile (its keys belong together and give its
 * member ID), the settings, and that the documents include the profile's neighbourhood and feed.
 */
export function checkBackupFile(value: unknown): BackupContents {
  const envelope = checkEnvelope(value, {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    notThis: Reason.notBackupFile,
    otherFormats: { [SYNC_FILE_FORMAT]: Reason.notBackupFile },
  })
  const profile = check(profileSchema, envelope.profile)
  if (!profile.ok) return fail(Reason.corruptFile, `profile: ${profile.issues[0]?.path} ${profile.issues[0]?.message}`)
  const settings = check(settingsSchema, envelope.settings ?? {})
  if (!settings.ok) return fail(Reason.corruptFile, `settings: ${settings.issues[0]?.path} ${settings.issues[0]?.message}`)
  const p = profile.value
  if (p.keys && (!keysMatch(p.keys) || memberIdFor(p.keys.publicKey) !== p.id)) return fail(Reason.corruptFile, 'the keys do not belong to this member')
  const docs = checkFileDocs(envelope.docs)
  const urls = new Set(docs.map((d) => d.url))
  if (!urls.has(p.neighbourhood as DocUrl)) return fail(Reason.corruptFile, 'the neighbourhood document is missing')
  if (!urls.has(p.feed as DocUrl)) return fail(Reason.corruptFile, 'the member’s own feed is missing')
  return {
    format: BACKUP_FORMAT,
    version: envelope.version,
    createdAt: envelope.createdAt,
    profile: p as BackupProfile,
    settings: settings.value,
    docs,
  }
}

/** "placette-sauvegarde-odile-2026-11-22.placette-profil" */
export function backupFileName(displayName: string, at: number): string {
  return `placette-sauvegarde-${fileSlug(displayName, 'profil')}-${new Date(at).toISOString().slice(0, 10)}${BACKUP_EXTENSION}`
}
