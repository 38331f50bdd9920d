import * as A from '@automerge/automerge'
import { cbor, type AutomergeUrl, type DocumentId, type Repo } from '@automerge/automerge-repo'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import { docIdOf, type DocUrl } from '../../shared/ids.ts'
import { validateFeed } from '../../shared/schema/feed.ts'
import { validateNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import {
  SYNC_FILE_FORMAT,
  SYNC_FILE_LIMITS,
  SYNC_FILE_VERSION,
  checkSyncFile,
  type SyncFileContents,
  type SyncFileDoc,
} from '../../shared/syncfile.ts'

/** Gzip or gunzip through the platform's streams (browsers and Node 18+), stopping past `limit` bytes. */
async function transform(bytes: Uint8Array, stream: CompressionStream | DecompressionStream, limit = Infinity): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(stream).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw new PlacetteError(Reason.fileTooLarge, 'file too large once uncompressed')
    }
    chunks.push(value)
  }
  const out = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.byteLength
  }
  return out
}

/** Every document of the neighbourhood this device has (from memory: what is not yet on disk too). */
export async function neighbourhoodDocs(repo: Repo, neighbourhood: DocUrl): Promise<SyncFileDoc[]> {
  const n = await repo.find<NeighbourhoodDoc>(neighbourhood as string as AutomergeUrl)
  const checked = validateNeighbourhood(n.doc())
  if (!checked.ok) throw new PlacetteError(Reason.invalidDocument, 'this neighbourhood cannot be read')
  const urls = [neighbourhood, ...Object.values(checked.value.members).map((m) => m.feed)]
  const docs: SyncFileDoc[] = []
  for (const url of new Set(urls)) {
    const data = await repo.export(url as string as AutomergeUrl)
    if (data) docs.push({ url, data })
  }
  return docs
}

/** A Placette file's bytes: gzipped CBOR. */
export const packFile = (contents: object): Promise<Uint8Array> => transform(cbor.encode(contents), new CompressionStream('gzip'))

/** Opens a Placette file's container, within the size limits; refuses what is not gzipped CBOR with `notThis`. */
export async function unpackFile(file: Uint8Array, notThis: Reason): Promise<unknown> {
  if (file.byteLength > SYNC_FILE_LIMITS.compressedBytes) throw new PlacetteError(Reason.fileTooLarge, 'file too large')
  // gzip's magic number: refuse other files at once, with the right words.
  if (file[0] !== 0x1f || file[1] !== 0x8b) throw new PlacetteError(notThis, 'not a gzip file')
  try {
    return cbor.decode(await transform(file, new DecompressionStream('gzip'), SYNC_FILE_LIMITS.uncompressedBytes))
  } catch (e) {
    if (e instanceof PlacetteError) throw e
    throw new PlacetteError(Reason.corruptFile, 'the file is damaged or incomplete')
  }
}

/** Writes every document of the neighbourhood this device has: the other side may lack any of them. */
export async function exportSyncFile(repo: Repo, neighbourhood: DocUrl, invitation?: string): Promise<Uint8Array> {
  const docs = await neighbourhoodDocs(repo, neighbourhood)
  const contents: SyncFileContents = { format: SYNC_FILE_FORMAT, version: SYNC_FILE_VERSION, neighbourhood, createdAt: Date.now(), docs, ...(invitation ? { invitation } : {}) }
  return packFile(contents)
}

export interface CheckedSyncFile {
  neighbourhood: DocUrl
  name: string
  createdAt: number
  docs: { url: DocUrl; data: Uint8Array }[]
  /** A référent's invitation, carried by the file (shared/syncfile.ts). */
  invitation?: string
}

/**
 * Reads and checks a file completely before anything is merged: the container, every document loads
 * with Automerge, the neighbourhood document is one, and every other document is a feed of that
 * neighbourhood listed in its registry. A file that fails any check is refused whole.
 */
export async function readSyncFile(file: Uint8Array): Promise<CheckedSyncFile> {
  const contents = checkSyncFile(await unpackFile(file, Reason.notSyncFile))
  const n = loadNeighbourhoodDocs(contents.neighbourhood, contents.docs)
  return { neighbourhood: contents.neighbourhood, name: n.name, createdAt: contents.createdAt, docs: contents.docs, ...(contents.invitation ? { invitation: contents.invitation } : {}) }
}

/**
 * Loads every document of a file with Automerge and checks that they make one neighbourhood: the
 * neighbourhood document is one, and every other document is a feed of it listed in its registry.
 */
export function loadNeighbourhoodDocs(neighbourhood: DocUrl, docs: readonly SyncFileDoc[]): NeighbourhoodDoc {
  const loaded = new Map<DocUrl, unknown>()
  for (const d of docs) {
    try {
      loaded.set(d.url, A.load(d.data))
    } catch {
      throw new PlacetteError(Reason.corruptFile, `document ${d.url} is damaged`)
    }
  }
  const n = validateNeighbourhood(loaded.get(neighbourhood))
  if (!n.ok) throw new PlacetteError(Reason.corruptFile, 'the neighbourhood document is not valid')
  const feeds = new Set(Object.values(n.value.members).map((m) => m.feed))
  for (const [url, doc] of loaded) {
    if (url === neighbourhood) continue
    const feed = validateFeed(doc)
    if (!feed.ok || feed.value.neighbourhood !== neighbourhood || !feeds.has(url)) {
      throw new PlacetteError(Reason.corruptFile, `document ${url} does not belong to this neighbourhood`)
    }
  }
  return n.value
}

/**
 * Merges a checked file into the repo. `repo.import` with a document ID merges into a document we
 * already have (Automerge's loadIncremental) and creates the ones we lack. Returns how many changed.
 */
export async function applySyncFile(repo: Repo, file: Pick<CheckedSyncFile, 'docs'>): Promise<number> {
  let changed = 0
  for (const d of file.docs) {
    const existing = repo.handles[docIdOf(d.url) as DocumentId]
    const before = existing?.isReady() ? A.getHeads(existing.doc() as A.Doc<unknown>).join() : ''
    const handle = repo.import<unknown>(d.data, { docId: docIdOf(d.url) as DocumentId })
    if (A.getHeads(handle.doc() as A.Doc<unknown>).join() !== before) changed++
  }
  await repo.flush(file.docs.map((d) => docIdOf(d.url) as DocumentId))
  return changed
}
