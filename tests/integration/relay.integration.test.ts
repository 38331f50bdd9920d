/**
 * The relay with real sockets, real files and stock automerge-repo clients.
 */
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib'
import { next as A } from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { precompress } from '../../scripts/precompress.ts'
import { CloseCode } from '../../shared/protocol.ts'
import { rawSocket } from '../helpers/raw-socket.ts'
import type { TestRelay } from '../helpers/relay.ts'
import { relayFixtures } from '../helpers/fixtures.ts'
import { waitFor } from '../helpers/wait-for.ts'

interface Board {
  posts: string[]
}

// Clients first, so the relay closes without peers still retrying.
const { relay, client, cleanups } = relayFixtures()

/** Two clients sharing a board through the relay, B having found A's document. */
async function sharedBoard(r: TestRelay) {
  const a = client(r.wsUrl)
  const b = client(r.wsUrl)
  const boardA = a.repo.create<Board>({ posts: ['first'] })
  const boardB = await b.findEventually<Board>(boardA.url)
  /** A posts; resolves once B sees it. */
  const stillSyncing = async (post: string) => {
    boardA.change((d) => void d.posts.push(post))
    await waitFor(() => boardB.doc().posts.includes(post), { message: `B sees "${post}"` })
  }
  return { a, b, boardA, boardB, stillSyncing }
}

describe('relay', () => {
  it('propagates a change from one client to another through the relay', async () => {
    const r = await relay()
    const { boardB, stillSyncing } = await sharedBoard(r)
    expect(boardB.doc().posts).toEqual(['first'])
    await stillSyncing('soupe pour les voisins')
    expect(boardB.doc().posts).toEqual(['first', 'soupe pour les voisins'])
  })

  it('serves every document after a restart from its data folder', async () => {
    const r = await relay()
    const a = client(r.wsUrl)
    const boards = [1, 2, 3].map((n) => a.repo.create<Board>({ posts: [`post ${n}`] }))
    boards[0]?.change((d) => void d.posts.push('an edit after creation'))
    // The relay has a document once a fresh client can get it from the relay.
    const probe = client(r.wsUrl)
    for (const board of boards) {
      const found = await probe.findEventually<Board>(board.url)
      await waitFor(() => found.doc().posts.length === board.doc().posts.length)
    }
    await probe.close()
    await a.close()

    await r.restart()
    const c = client(r.wsUrl)
    for (const board of boards) {
      const found = await c.repo.find<Board>(board.url)
      expect(found.doc().posts).toEqual(board.doc().posts)
    }
  })

  it('closes only the sender\'s socket on a malformed frame', async () => {
    const r = await relay()
    const { stillSyncing } = await sharedBoard(r)

    const garbage = await rawSocket(r.wsUrl)
    garbage.sendBytes(new Uint8Array([0xff, 0xfe, 0xfd, 0xfc, 0x00, 0x01, 0x02]))
    expect((await garbage.closed).code).toBe(CloseCode.malformed)

    const notAMessage = await rawSocket(r.wsUrl)
    notAMessage.sendCbor({ hello: 'world', senderId: 'peer-x' })
    expect((await notAMessage.closed).code).toBe(CloseCode.protocol)

    const impostor = await rawSocket(r.wsUrl)
    impostor.sendCbor({ type: 'join', senderId: 'peer-honest', peerMetadata: {}, supportedProtocolVersions: ['1'] })
    const relayId = (await impostor.next('peer')).senderId
    const [, syncData] = A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())
    impostor.sendCbor({ type: 'sync', senderId: 'peer-someone-else', targetId: relayId, documentId: '2jZzs4tR7Ev8Pn9cQwBNaZkdNcHk', data: syncData })
    expect((await impostor.closed).code).toBe(CloseCode.protocol)

    expect(r.logs).toContainEqual(expect.objectContaining({ msg: 'socket refused', reason: 'malformed-frame' }))
    expect(r.logs).toContainEqual(expect.objectContaining({ msg: 'socket refused', reason: 'protocol-violation' }))
    await stillSyncing('still here after the garbage')
  })

  it('survives a well-formed sync message carrying broken changes', async () => {
    const r = await relay()
    const { boardA, stillSyncing } = await sharedBoard(r)
    const peer = await rawSocket(r.wsUrl)
    peer.sendCbor({ type: 'join', senderId: 'peer-broken', peerMetadata: {}, supportedProtocolVersions: ['1'] })
    const relayId = (await peer.next('peer')).senderId
    const [, valid] = A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())
    const decoded = A.decodeSyncMessage(valid as Uint8Array)
    const broken = A.encodeSyncMessage({ ...decoded, changes: [new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 5])] })
    peer.sendCbor({ type: 'sync', senderId: 'peer-broken', targetId: relayId, documentId: boardA.documentId, data: broken })
    await stillSyncing('unharmed')
    expect(await (await fetch(`${r.url}/healthz`)).json()).toMatchObject({ ok: true })
    peer.close()
  })

  it('closes only the sender\'s socket on an oversized frame', async () => {
    const maxFrameBytes = 64 * 1024
    const r = await relay({ maxFrameBytes })
    const { stillSyncing } = await sharedBoard(r)

    const big = await rawSocket(r.wsUrl, { perMessageDeflate: false })
    big.sendBytes(new Uint8Array(maxFrameBytes + 1024).map((_, i) => (i * 7) % 256))
    expect((await big.closed).code).toBe(CloseCode.tooLarge)

    // A frame small on the wire but large once inflated (a "zip bomb") is measured after inflation.
    const bomb = await rawSocket(r.wsUrl, { perMessageDeflate: true })
    bomb.sendBytes(new Uint8Array(4 * 1024 * 1024))
    expect((await bomb.closed).code).toBe(CloseCode.tooLarge)

    await stillSyncing('small posts still flow')
    const metrics = await (await fetch(`${r.url}/metrics`)).text()
    expect(metrics).toContain('placette_relay_frames_refused_total{reason="frame-too-large"} 2')
  })

  it('refuses WebSocket upgrades outside /sync', async () => {
    const r = await relay()
    await expect(rawSocket(`${r.wsUrl.replace('/sync', '/elsewhere')}`)).rejects.toThrow(/404/)
  })

  it('/healthz answers ok', async () => {
    const r = await relay()
    client(r.wsUrl).repo.create({ posts: [] })
    const health = await waitFor(async () => {
      const body = (await (await fetch(`${r.url}/healthz`)).json()) as Record<string, unknown>
      return body.peers === 1 && body
    })
    expect(health).toEqual({ ok: true, peers: 1, documents: expect.any(Number), documentsEvicted: 0, uptimeSeconds: expect.any(Number), eventLoopUtilization: expect.any(Number), heapUse: expect.any(Number), busy: false })
  })

  it('/metrics is Prometheus text', async () => {
    const r = await relay()
    await sharedBoard(r)
    const res = await fetch(`${r.url}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+)$/)
    }
    const value = (name: string) => Number(new RegExp(`^${name} (.+)$`, 'm').exec(text)?.[1])
    expect(value('placette_relay_connections')).toBe(2)
    expect(value('placette_relay_documents_in_memory')).toBeGreaterThanOrEqual(1)
    expect(value('placette_relay_received_bytes_total')).toBeGreaterThan(0)
    expect(value('placette_relay_sent_bytes_total')).toBeGreaterThan(0)
    expect(value('placette_relay_storage_write_seconds_count')).toBeGreaterThan(0)
    expect(text).toContain('# TYPE placette_relay_frames_refused_total counter')
  })
})

/** A GET that shows the bytes as sent (fetch would undo the compression) and keeps `..` in the path. */
function rawGet(url: string, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(url + path, { method, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.path = path
    req.on('error', reject)
    req.end()
  })
}

describe('relay: the PWA', () => {
  async function withApp() {
    const base = await mkdtemp(join(tmpdir(), 'placette-static-'))
    cleanups.push(() => rm(base, { recursive: true, force: true }))
    const dist = join(base, 'dist')
    await mkdir(join(dist, 'assets'), { recursive: true })
    const index = `<!doctype html><title>Placette</title>${'<p>entraide entre voisins</p>'.repeat(80)}`
    const script = `export const hello = () => ${JSON.stringify('bonjour '.repeat(500))}\n`
    await writeFile(join(dist, 'index.html'), index)
    await writeFile(join(dist, 'assets', 'x.js'), script)
    await writeFile(join(dist, 'sw.js'), `self.addEventListener('fetch', () => {})\n`.repeat(30))
    await writeFile(join(dist, 'manifest.webmanifest'), JSON.stringify({ name: 'Placette', pad: 'x'.repeat(600) }))
    await writeFile(join(dist, 'assets', 'automerge.wasm'), new Uint8Array(4096).fill(1))
    await writeFile(join(dist, 'assets', 'icon.png'), new Uint8Array(4096).fill(2))
    await writeFile(join(base, 'secret.txt'), 'not for the web')
    const r = await relay({ staticDir: dist })
    return { r, index, script, dist }
  }

  it('serves the PWA with compression and cache headers', async () => {
    const { r, index, script } = await withApp()

    const home = await rawGet(r.url, '/', { 'Accept-Encoding': 'gzip, deflate, br', Accept: 'text/html' })
    expect(home.status).toBe(200)
    expect(home.headers['content-encoding']).toBe('br')
    expect(home.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(home.headers['cache-control']).toBe('no-cache')
    expect(brotliDecompressSync(home.body).toString()).toBe(index)

    const js = await rawGet(r.url, '/assets/x.js', { 'Accept-Encoding': 'gzip' })
    expect(js.headers['content-encoding']).toBe('gzip')
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(gunzipSync(js.body).toString()).toBe(script)

    const plainJs = await rawGet(r.url, '/assets/x.js')
    expect(plainJs.headers['content-encoding']).toBeUndefined()
    expect(plainJs.body.toString()).toBe(script)

    expect((await rawGet(r.url, '/sw.js')).headers['cache-control']).toBe('no-cache')
    expect((await rawGet(r.url, '/manifest.webmanifest')).headers['content-type']).toBe('application/manifest+json; charset=utf-8')
    const wasm = await rawGet(r.url, '/assets/automerge.wasm', { 'Accept-Encoding': 'br' })
    expect(wasm.headers['content-type']).toBe('application/wasm')
    expect(wasm.headers['content-encoding']).toBe('br')
    const png = await rawGet(r.url, '/assets/icon.png', { 'Accept-Encoding': 'br' })
    expect(png.headers['content-type']).toBe('image/png')
    expect(png.headers['content-encoding']).toBeUndefined()

    const again = await rawGet(r.url, '/assets/x.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': String(js.headers.etag) })
    expect(again.status).toBe(304)
    expect(again.body.length).toBe(0)

    const route = await rawGet(r.url, '/join/abc', { Accept: 'text/html,application/xhtml+xml' })
    expect(route.status).toBe(200)
    expect(route.body.toString()).toBe(index)
    expect(route.headers['cache-control']).toBe('no-cache')

    expect((await rawGet(r.url, '/nope.js')).status).toBe(404)
    expect((await rawGet(r.url, '/assets/missing', { Accept: 'text/html' })).status).toBe(404)
    for (const path of ['/../package.json', '/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/.%2e/secret.txt']) {
      const res = await rawGet(r.url, path)
      expect(res.status, path).toBeGreaterThanOrEqual(400)
      expect(res.body.toString(), path).not.toContain('not for the web')
    }
    expect((await rawGet(r.url, '/', {}, 'HEAD')).body.length).toBe(0)
    expect((await rawGet(r.url, '/', {}, 'POST')).status).toBe(405)
  })

  it('serves the build’s precompressed copies as they are, and only copies that match their file', async () => {
    const { r, index, script, dist } = await withApp()
    expect(await precompress(dist)).toBe(5) // index.html, x.js, sw.js, the manifest, the wasm; not the PNG
    const best = await readFile(join(dist, 'assets', 'x.js.br'))
    expect(brotliDecompressSync(best).toString()).toBe(script)
    // A copy the relay would never make itself (brotli's fastest setting), to see it is the one served.
    const mine = brotliCompressSync(script, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 0 } })
    await writeFile(join(dist, 'assets', 'x.js.br'), mine)
    const js = await rawGet(r.url, '/assets/x.js', { 'Accept-Encoding': 'br' })
    expect(js.headers['content-encoding']).toBe('br')
    expect(js.body.equals(mine)).toBe(true)

    // A copy that does not unpack to its file is not served: the relay compresses the file itself.
    await writeFile(join(dist, 'index.html.gz'), gzipSync('<p>une autre page</p>'))
    const home = await rawGet(r.url, '/', { 'Accept-Encoding': 'gzip', Accept: 'text/html' })
    expect(gunzipSync(home.body).toString()).toBe(index)
    // A file changed after the build (its copies now older): the copies are ignored.
    await writeFile(join(dist, 'sw.js'), '// a newer service worker\n'.repeat(40))
    const later = new Date(Date.now() + 60_000)
    await utimes(join(dist, 'sw.js'), later, later)
    const sw = await rawGet(r.url, '/sw.js', { 'Accept-Encoding': 'br' })
    expect(brotliDecompressSync(sw.body).toString()).toBe('// a newer service worker\n'.repeat(40))
  })

  it('says to run the build when there is no app to serve', async () => {
    const r = await relay()
    const res = await rawGet(r.url, '/', { Accept: 'text/html' })
    expect(res.body.toString()).toContain('npm run build')
  })
})
