/**
 * The sync file: a neighbourhood's documents carried from one device to another when there is no
 * network at all (a USB stick, a Bluetooth share, an e-mail sent later). Gzipped CBOR:
 *   { format: 'placette-sync', version: 1, neighbourhood, createdAt, docs: [{ url, data }] }
 * where `data` is each document saved by Automerge. Opening one merges it like any other sync.
 * This module checks the container; the client checks that every document loads and belongs.
 */
import { readInvitation } from './invitation.ts'
import { Reason, refuse } from './errors.ts'
import { DOC_URL_PATTERN, type DocUrl } from './ids.ts'

export const SYNC_FILE_FORMAT = 'placette-sync'
export const SYNC_FILE_VERSION = 1
export const SYNC_FILE_EXTENSION = '.placette'
export const SYNC_FILE_MIME = 'application/x-placette-sync'

/** Limits that keep a hostile file from exhausting a phone: a neighbourhood fits far below them. */
export const SYNC_FILE_LIMITS = {
  compressedBytes: 64 * 1024 * 1024,
  uncompressedBytes: 256 * 1024 * 1024,
  docs: 5000,
} as const

export interface SyncFileDoc {
  url: DocUrl
  data: Uint8Array
}

export interface SyncFileContents {
  format: typeof SYNC_FILE_FORMAT
  version: number
  neighbourhood: DocUrl
  createdAt: number
  docs: SyncFileDoc[]
  /**
   * An invitation, when a référent made the file: a device that joins from it can then sync through
   * the relay too (which lets in only invited members).
   */
  invitation?: string
}

const fail = refuse

/**
 * The envelope every Placette file shares (sync files and profile backups): a map with `format`,
 * an integer `version` this app can read, `createdAt`. `otherFormats` names the other Placette
 * files, refused with their own reason so the person is told which door to use.
 */
export function checkEnvelope(
  value: unknown,
  expected: { format: string; version: number; notThis: Reason; otherFormats?: Record<string, Reason> },
): Record<string, unknown> & { version: number; createdAt: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(expected.notThis, 'not a map')
  const v = value as Record<string, unknown>
  if (v.format !== expected.format) {
    const other = typeof v.format === 'string' ? expected.otherFormats?.[v.format] : undefined
    return fail(other ?? expected.notThis, `not a ${expected.format} file`)
  }
  if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1) return fail(Reason.corruptFile, 'bad version')
  if (v.version > expected.version) return fail(Reason.newerFile, `file version ${v.version} is newer than ${expected.version}`)
  if (typeof v.createdAt !== 'number' || !Number.isFinite(v.createdAt)) return fail(Reason.corruptFile, 'bad date')
  return v as Record<string, unknown> & { version: number; createdAt: number }
}

/** A file's list of saved Automerge documents: each with a document URL and bytes, no duplicates. */
export function checkFileDocs(value: unknown): SyncFileDoc[] {
  if (!Array.isArray(value)) return fail(Reason.corruptFile, 'no documents')
  if (value.length > SYNC_FILE_LIMITS.docs) return fail(Reason.fileTooLarge, 'too many documents')
  const seen = new Set<string>()
  return value.map((d: unknown, i: number) => {
    const doc = d as Record<string, unknown> | null
    if (!doc || typeof doc.url !== 'string' || !DOC_URL_PATTERN.test(doc.url)) return fail(Reason.corruptFile, `document ${i}: bad url`)
    if (!(doc.data instanceof Uint8Array) || doc.data.byteLength === 0) return fail(Reason.corruptFile, `document ${i}: no data`)
    if (seen.has(doc.url)) return fail(Reason.corruptFile, `document ${i}: duplicate`)
    seen.add(doc.url)
    return { url: doc.url as DocUrl, data: doc.data }
  })
}

/** Checks a decoded file's shape; throws a PlacetteError with the reason a person will be told. */
export function checkSyncFile(value: unknown): SyncFileContents {
  const v = checkEnvelope(value, { format: SYNC_FILE_FORMAT, version: SYNC_FILE_VERSION, notThis: Reason.notSyncFile, otherFormats: { 'placette-backup': Reason.backupFile } })
  if (typeof v.neighbourhood !== 'string' || !DOC_URL_PATTERN.test(v.neighbourhood)) return fail(Reason.corruptFile, 'bad neighbourhood')
  const docs = checkFileDocs(v.docs)
  if (!docs.some((d) => d.url === v.neighbourhood)) return fail(Reason.corruptFile, 'the neighbourhood document is missing')
  let invitation: string | undefined
  if (v.invitation !== undefined) {
    if (typeof v.invitation !== 'string' || v.invitation.length > 1500) return fail(Reason.corruptFile, 'bad invitation')
    let n: string
    try {
      n = readInvitation(v.invitation).invitation.n
    } catch {
      return fail(Reason.corruptFile, 'bad invitation')
    }
    if (`automerge:${n}` !== v.neighbourhood) return fail(Reason.corruptFile, 'invitation for another neighbourhood')
    invitation = v.invitation
  }
  return { format: SYNC_FILE_FORMAT, version: v.version, neighbourhood: v.neighbourhood as DocUrl, createdAt: v.createdAt, docs, ...(invitation ? { invitation } : {}) }
}

/** A name as it can appear in a file name: "Le Bourg" → "le-bourg". */
export function fileSlug(name: string, fallback: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  return slug || fallback
}

/** The file name a person sees: "placette-le-bourg-2026-11-21.placette". */
export function syncFileName(neighbourhoodName: string, at: number): string {
  return `placette-${fileSlug(neighbourhoodName, 'quartier')}-${new Date(at).toISOString().slice(0, 10)}${SYNC_FILE_EXTENSION}`
}
