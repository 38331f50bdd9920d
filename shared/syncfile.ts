/**
 * The sync file: a neighbourhood's documents carried from one device to another when there is no
 * network at all (a USB stick, a Bluetooth share, an e-mail sent later). Gzipped CBOR:
 *   { format: 'placette-sync', version: 1, neighbourhood, createdAt, docs: [{ url, data }] }
 * where `data` is each document saved by Automerge. Opening one merges it like any other sync.
 * This module checks the container; the client checks that every document loads and belongs.
 */
import { readInvitation } from './invitation.ts'
import { Reason, PlacetteError } from './errors.ts'
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

const fail = (reason: Reason, message: string): never => {
  throw new PlacetteError(reason, message)
}

/** Checks a decoded file's shape; throws a PlacetteError with the reason a person will be told. */
export function checkSyncFile(value: unknown): SyncFileContents {
  if (typeof value !== 'object' || value === null) return fail(Reason.notSyncFile, 'not a map')
  const v = value as Record<string, unknown>
  if (v.format !== SYNC_FILE_FORMAT) return fail(Reason.notSyncFile, 'not a Placette sync file')
  if (typeof v.version !== 'number' || !Number.isInteger(v.version) || v.version < 1) return fail(Reason.corruptFile, 'bad version')
  if (v.version > SYNC_FILE_VERSION) return fail(Reason.newerFile, `file version ${v.version} is newer than ${SYNC_FILE_VERSION}`)
  if (typeof v.neighbourhood !== 'string' || !DOC_URL_PATTERN.test(v.neighbourhood)) return fail(Reason.corruptFile, 'bad neighbourhood')
  if (typeof v.createdAt !== 'number' || !Number.isFinite(v.createdAt)) return fail(Reason.corruptFile, 'bad date')
  if (!Array.isArray(v.docs)) return fail(Reason.corruptFile, 'no documents')
  if (v.docs.length > SYNC_FILE_LIMITS.docs) return fail(Reason.fileTooLarge, 'too many documents')
  const seen = new Set<string>()
  const docs = v.docs.map((d: unknown, i: number) => {
    const doc = d as Record<string, unknown> | null
    if (!doc || typeof doc.url !== 'string' || !DOC_URL_PATTERN.test(doc.url)) return fail(Reason.corruptFile, `document ${i}: bad url`)
    if (!(doc.data instanceof Uint8Array) || doc.data.byteLength === 0) return fail(Reason.corruptFile, `document ${i}: no data`)
    if (seen.has(doc.url)) return fail(Reason.corruptFile, `document ${i}: duplicate`)
    seen.add(doc.url)
    return { url: doc.url as DocUrl, data: doc.data }
  })
  if (!seen.has(v.neighbourhood)) return fail(Reason.corruptFile, 'the neighbourhood document is missing')
  let invitation: string | undefined
  if (v.invitation !== undefined) {
    if (typeof v.invitation !== 'string' || v.invitation.length > 1500) return fail(Reason.corruptFile, 'bad invitation')
    try {
      if (readInvitation(v.invitation).invitation.n !== v.neighbourhood.slice('automerge:'.length)) return fail(Reason.corruptFile, 'invitation for another neighbourhood')
    } catch {
      return fail(Reason.corruptFile, 'bad invitation')
    }
    invitation = v.invitation
  }
  return { format: SYNC_FILE_FORMAT, version: v.version, neighbourhood: v.neighbourhood as DocUrl, createdAt: v.createdAt, docs, ...(invitation ? { invitation } : {}) }
}

/** The file name a person sees: "placette-le-bourg-2026-11-21.placette". */
export function syncFileName(neighbourhoodName: string, at: number): string {
  const slug = neighbourhoodName
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  return `placette-${slug || 'quartier'}-${new Date(at).toISOString().slice(0, 10)}${SYNC_FILE_EXTENSION}`
}
