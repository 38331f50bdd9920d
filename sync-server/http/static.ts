/**
 * Serves the built PWA (`dist/`): GET and HEAD only, no way out of the folder, compressed once per
 * file and kept in memory, long-lived caching for hashed assets and revalidation for the rest (the
 * service worker and index.html must never be stale), and an SPA fallback so `/join/xyz` loads the app.
 * The build writes a best-quality brotli and a gzip copy next to each file (scripts/precompress.ts):
 * when they match the file they are served as they are, so a relay that just started sends its first
 * visitor the smallest bytes (0.998 MB rather than 1.165 MB) and a Raspberry Pi does not spend minutes of
 * CPU compressing Automerge's wasm again after every restart.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile, realpath, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, posix, resolve, sep } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, brotliDecompress, constants as zlibConstants, gunzip, gzip } from 'node:zlib'
import type { Logger } from '../log.ts'

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.pmtiles': 'application/octet-stream',
}

/** Types worth compressing; images, fonts and archives are compressed already. */
export const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.webmanifest', '.wasm', '.svg', '.txt', '.xml', '.ico'])
/** Below this, compression headers cost about what they save. */
export const MIN_COMPRESS_BYTES = 512
/** Suffixes of the copies the build writes next to each compressible file (scripts/precompress.ts). */
export const PRECOMPRESSED: Readonly<Record<Encoding, string>> = { br: '.br', gzip: '.gz' }
/** Larger files are streamed as they are, not held in memory (e.g. a map area pack). */
const MAX_CACHED_BYTES = 32 * 1024 * 1024
const IMMUTABLE = 'public, max-age=31536000, immutable'

type Encoding = 'br' | 'gzip'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)
const unbrotli = promisify(brotliDecompress)
const gunzipped = promisify(gunzip)
const brotliAt = (quality: number) => (data: Buffer) =>
  brotli(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: data.length } })

interface CachedFile {
  mtimeMs: number
  size: number
  body: Buffer
  etag: string
  /** Compressed bodies; `undefined` once compression failed (then the file goes out as it is). */
  variants: Map<Encoding, Promise<Buffer | undefined>>
}

export interface StaticOptions {
  /** The folder to serve; if it does not exist, every page says to run `npm run build`. */
  root: string
  log: Logger
}

/** Handles a GET or HEAD for the PWA; the relay routes every request that is not an API here. */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

export function createStaticHandler(options: StaticOptions): StaticHandler {
  const root = resolve(options.root)
  const cache = new Map<string, CachedFile>()
  const upgrades = new BestCompression(options.log)

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' })
    const path = safePath(req.url ?? '/')
    if (path === 'bad-request') return plain(res, 400, 'Bad request\n')
    if (!(await isDir(root))) return plain(res, 404, NOT_BUILT)

    const wanted = path === undefined ? undefined : path.endsWith('/') ? path + 'index.html' : path
    let file = wanted && (await findFile(root, wanted))
    let cacheControl = wanted?.startsWith('/assets/') ? IMMUTABLE : 'no-cache'
    if (!file && wanted !== undefined && isNavigation(req, wanted)) {
      file = await findFile(root, '/index.html')
      cacheControl = 'no-cache'
    }
    if (!file) return plain(res, 404, 'Not found\n')

    const ext = extname(file.path).toLowerCase()
    const headers: Record<string, string> = {
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'Cache-Control': cacheControl,
      'X-Content-Type-Options': 'nosniff',
    }
    if (file.size > MAX_CACHED_BYTES) {
      res.writeHead(200, { ...headers, 'Content-Length': String(file.size) })
      if (req.method === 'HEAD') return void res.end()
      createReadStream(file.path).on('error', () => res.destroy()).pipe(res)
      return
    }

    const cached = await load(cache, file, root, options.log)
    const compressible = COMPRESSIBLE.has(ext) && cached.size >= MIN_COMPRESS_BYTES
    const encoding = compressible ? pickEncoding(req.headers['accept-encoding']) : undefined
    if (compressible) headers.Vary = 'Accept-Encoding'
    const etag = encoding ? `W/"${cached.etag}-${encoding}"` : `W/"${cached.etag}"`
    headers.ETag = etag
    if (matches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, headers)
      return void res.end()
    }
    const packed = encoding && (await compressed(cached, encoding, file.path, upgrades))
    const body = packed || cached.body
    if (packed && encoding) headers['Content-Encoding'] = encoding
    else if (encoding) headers.ETag = `W/"${cached.etag}"`
    res.writeHead(200, { ...headers, 'Content-Length': String(body.length) })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

const NOT_BUILT = 'The Placette relay is running, but the app is not built.\nRun `npm run build`, then reload this page.\n'

function plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache', ...extra })
  res.end(text)
}

/**
 * The request path, decoded and normalised against `/` (so `..` cannot climb above the root);
 * `undefined` for a path we never serve (a hidden file, a backslash); `'bad-request'` if undecodable.
 */
export function safePath(url: string): string | undefined | 'bad-request' {
  let path: string
  try {
    path = decodeURIComponent(new URL(url, 'http://relay.invalid').pathname)
  } catch {
    return 'bad-request'
  }
  if (path.includes('\0')) return 'bad-request'
  const normal = posix.normalize('/' + path)
  const segments = normal.split('/')
  if (segments.some((s) => s.startsWith('.') || s.includes('\\'))) return undefined
  return normal
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false)
}

/** The file for a URL path, only if it is a regular file that really lies inside the root (no symlink out). */
async function findFile(root: string, urlPath: string): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
  return fileIn(root, join(root, ...urlPath.split('/')))
}

/** `candidate` (an absolute path), only if it is a regular file that really lies inside the root. */
async function fileIn(root: string, candidate: string): Promise<{ path: string; size: number; mtimeMs: number } | undefined> {
  try {
    const [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)])
    if (!real.startsWith(realRoot + sep)) return undefined
    const info = await stat(real)
    return info.isFile() ? { path: real, size: info.size, mtimeMs: info.mtimeMs } : undefined
  } catch {
    return undefined
  }
}

/** A browser navigation to an app route (no extension, wants HTML): answer with the app shell. */
function isNavigation(req: IncomingMessage, path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1)
  return !last.includes('.') && !path.startsWith('/assets/') && (req.headers.accept ?? '').includes('text/html')
}

/** br if the client takes it, else gzip, else none (a `q=0` refuses an encoding). */
export function pickEncoding(header: string | string[] | undefined): Encoding | undefined {
  const accepted = new Set<string>()
  for (const item of String(header ?? '').split(',')) {
    const [name = '', ...params] = item.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number(q.slice(2)) > 0) accepted.add(name.trim())
  }
  if (accepted.has('br')) return 'br'
  if (accepted.has('gzip')) return 'gzip'
  return undefined
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  const bare = (t: string) => t.trim().replace(/^W\//, '')
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag))
}

async function load(cache: Map<string, CachedFile>, file: { path: string; size: number; mtimeMs: number }, root: string, log: Logger): Promise<CachedFile> {
  const hit = cache.get(file.path)
  // A rebuild (`npm run build` while the relay runs) changes mtime or size: read the file again.
  if (hit && hit.mtimeMs === file.mtimeMs && hit.size === file.size) return hit
  const body = await readFile(file.path)
  const entry: CachedFile = {
    mtimeMs: file.mtimeMs,
    size: body.length,
    body,
    etag: createHash('sha256').update(body).digest('base64url').slice(0, 22),
    variants: new Map(),
  }
  if (COMPRESSIBLE.has(extname(file.path).toLowerCase()))
    for (const [encoding, suffix] of Object.entries(PRECOMPRESSED) as [Encoding, string][]) {
      const packed = await precompressed(root, file, suffix, body, encoding, log)
      if (packed) entry.variants.set(encoding, Promise.resolve(packed))
    }
  cache.set(file.path, entry)
  return entry
}

/**
 * The build's compressed copy of `file` (`file` + `suffix`), if it lies in the root, is not older than
 * the file and unpacks to exactly its bytes (checked once per load: milliseconds, even for the wasm).
 */
async function precompressed(root: string, file: { path: string; mtimeMs: number }, suffix: string, body: Buffer, encoding: Encoding, log: Logger): Promise<Buffer | undefined> {
  const copy = await fileIn(root, file.path + suffix)
  if (!copy || copy.mtimeMs < file.mtimeMs) return undefined
  try {
    const packed = await readFile(copy.path)
    const unpacked = await (encoding === 'br' ? unbrotli(packed) : gunzipped(packed))
    if (unpacked.equals(body)) return packed
    log.warn('a precompressed copy does not match its file; compressing it here instead', { path: copy.path })
  } catch (err) {
    log.warn('a precompressed copy could not be read; compressing it here instead', { path: copy.path, err })
  }
  return undefined
}

/**
 * The compressed body, made once per file and encoding. Brotli at its best setting takes seconds for
 * Automerge's 3.6 MB wasm (minutes on a Raspberry Pi), so the first answer uses a fast setting and the
 * best one replaces it in the background.
 */
function compressed(entry: CachedFile, encoding: Encoding, path: string, upgrades: BestCompression): Promise<Buffer | undefined> {
  let variant = entry.variants.get(encoding)
  if (!variant) {
    const fast = encoding === 'gzip' ? gz(entry.body, { level: 9 }) : brotliAt(5)(entry.body)
    variant = fast.catch((err: unknown) => {
      upgrades.log.warn('compression failed; serving uncompressed', { path, encoding, err })
      return undefined
    })
    entry.variants.set(encoding, variant)
    if (encoding === 'br') upgrades.schedule(path, entry)
  }
  return variant
}

/** Re-compresses files with brotli's best quality, one at a time so the thread pool stays free for I/O. */
class BestCompression {
  readonly #queue: Array<{ path: string; entry: CachedFile }> = []
  #running = false
  readonly log: Logger
  constructor(log: Logger) {
    this.log = log
  }

  schedule(path: string, entry: CachedFile): void {
    this.#queue.push({ path, entry })
    if (!this.#running) void this.#drain()
  }

  async #drain(): Promise<void> {
    this.#running = true
    for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
      try {
        const best = await brotliAt(zlibConstants.BROTLI_MAX_QUALITY)(job.entry.body)
        job.entry.variants.set('br', Promise.resolve(best))
      } catch (err) {
        this.log.warn('best compression failed; keeping the fast one', { path: job.path, err })
      }
    }
    this.#running = false
  }
}
