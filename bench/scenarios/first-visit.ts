/**
 * First visit: a fresh Chromium profile opens the app served by the relay; everything it downloads
 * (the page, then what the service worker precaches) is summed by part: the app itself, the communes
 * list, Automerge's wasm, the map. Sizes are given as Chromium received them (brotli from the relay)
 * and, per part, as brotli and gzip files (the build's precompressed brotli, quality 11, which the relay
 * serves; gzip level 9).
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { launchBrowser } from '../../tests/e2e/browser.ts'
import { ensureAppBuild } from '../lib/app-build.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { startServer, type ServerChild } from '../lib/server-process.ts'
import { sleep } from '../lib/wait.ts'

type Part = 'app' | 'communes list' | 'Automerge wasm' | 'map'
const PARTS: Part[] = ['app', 'communes list', 'Automerge wasm', 'map']

export function partOf(path: string): Part {
  const name = path.split('/').pop() ?? ''
  if (name.endsWith('.wasm')) return 'Automerge wasm'
  if (/maplibre|(^|[-_.])map[-_.]|pmtiles/i.test(name) && !name.endsWith('.map')) return 'map'
  if (/communes/i.test(name)) return 'communes list'
  return 'app'
}

interface Fetched {
  path: string
  /** Bytes on the wire: body as received (compressed) plus headers; 0 when served from Chromium's cache. */
  transferred: number
}

async function visit(server: ServerChild): Promise<Fetched[]> {
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext({ locale: 'fr-FR' })
    const fetched: Promise<Fetched>[] = []
    let last = performance.now()
    context.on('requestfinished', (request) => {
      last = performance.now()
      fetched.push(
        request.sizes().then((s) => ({
          path: new URL(request.url()).pathname,
          // A negative body size is Chromium's way of saying it came from its HTTP cache.
          transferred: s.responseBodySize >= 0 ? s.responseBodySize + s.responseHeadersSize : 0,
        })),
      )
    })
    const page = await context.newPage()
    await page.goto(server.url)
    await page.waitForFunction(() => !!navigator.serviceWorker?.controller, undefined, { timeout: 60_000 })
    // The service worker precaches the rest after it takes control: wait until the network is quiet.
    while (performance.now() - last < 3000) await sleep(250)
    await context.close()
    return (await Promise.all(fetched)).filter((f) => f.path.startsWith('/') && !f.path.startsWith('/sync'))
  } finally {
    await browser.close()
  }
}

export const firstVisit: Scenario = {
  id: 'first-visit',
  title: 'First visit: bytes downloaded',
  goal: '≤ 1.0 MB brotli without the map',
  async run(ctx: RunContext) {
    const build = await ensureAppBuild(ctx.root, ctx.log)
    const server = await startServer('placette', { staticDir: build.dir })
    const runs = ctx.quick ? 1 : 3
    const totals: number[] = []
    let fetched: Fetched[] = []
    try {
      for (let run = 0; run < runs; run++) {
        ctx.log(`first-visit: fresh Chromium profile, run ${run + 1}/${runs}`)
        fetched = await visit(server)
        totals.push(fetched.reduce((a, f) => a + f.transferred, 0))
      }
    } finally {
      await server.stop()
    }
    // Per part, over the distinct files a first visit downloads.
    const files = [...new Set(fetched.map((f) => (f.path === '/' ? '/index.html' : f.path)))]
    const sizes = { raw: new Map<Part, number>(), br: new Map<Part, number>(), gzip: new Map<Part, number>(), files: new Map<Part, number>() }
    const add = (m: Map<Part, number>, part: Part, n: number) => m.set(part, (m.get(part) ?? 0) + n)
    // What the relay sends: the build's best-quality copy (scripts/precompress.ts); a file without one
    // (under 512 B) is compressed here as the relay would at its best.
    const brotliSize = (file: string, body: Buffer) => {
      try {
        return statSync(file + '.br').size
      } catch {
        return brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }).byteLength
      }
    }
    for (const path of files) {
      const file = join(build.dir, path)
      let body: Buffer
      try {
        if (!statSync(file).isFile()) continue
        body = readFileSync(file)
      } catch {
        continue
      }
      const part = partOf(path)
      add(sizes.files, part, 1)
      add(sizes.raw, part, body.byteLength)
      add(sizes.br, part, brotliSize(file, body))
      add(sizes.gzip, part, gzipSync(body, { level: 9 }).byteLength)
    }
    const mb = (n: number) => n / 1e6
    const withoutMap = (m: Map<Part, number>) => PARTS.filter((p) => p !== 'map').reduce((a, p) => a + (m.get(p) ?? 0), 0)
    const figures: Figure[] = [
      { measure: 'brotli, without the map (all parts below but the map)', unit: 'MB', values: { placette: [mb(withoutMap(sizes.br))] }, goal: { max: 1.0, text: '≤ 1.0 MB' }, digits: 3 },
      { measure: 'gzip, without the map', unit: 'MB', values: { placette: [mb(withoutMap(sizes.gzip))] }, digits: 3 },
      { measure: 'transferred by Chromium on a first visit (headers included; page + service worker precache)', unit: 'MB', values: { placette: totals.map(mb) }, digits: 3 },
      ...PARTS.map((part): Figure => ({ measure: `part "${part}", brotli`, unit: 'MB', values: { placette: [mb(sizes.br.get(part) ?? 0)] }, digits: 3 })),
    ]
    const rows = PARTS.map(
      (p) => `| ${p} | ${sizes.files.get(p) ?? 0} | ${(mb(sizes.raw.get(p) ?? 0)).toFixed(3)} | ${(mb(sizes.gzip.get(p) ?? 0)).toFixed(3)} | ${(mb(sizes.br.get(p) ?? 0)).toFixed(3)} |`,
    )
    const brWithout = mb(withoutMap(sizes.br))
    const notes: string[] = []
    if ((sizes.br.get('communes list') ?? 0) === 0)
      notes.push(
        'The communes list is not part of a first visit: the create-a-neighbourhood page fetches it (0.27 MB brotli) and the service ' +
          'worker caches it then (client/stores/communes.ts); someone who joins never downloads it.',
      )
    if (brWithout > 1.0) {
      notes.push(
        `Over the goal by ${((brWithout - 1.0) * 1000).toFixed(0)} KB. The two big parts are Automerge's wasm ` +
          `(${mb(sizes.br.get('Automerge wasm') ?? 0).toFixed(2)} MB brotli, fixed cost of the CRDT engine) and the communes list ` +
          `(${mb(sizes.br.get('communes list') ?? 0).toFixed(2)} MB brotli, precached by the service worker although only the ` +
          `create-a-neighbourhood page needs it). What would make it smaller: keep the communes list out of the precache and fetch it ` +
          `when that page opens (or ship it as compact columns: postcode → INSEE → name), and precache the wasm only after the board has painted.`,
      )
    }
    return {
      method:
        `The app (${build.how}) is served by the Placette relay (its static handler: brotli or gzip chosen per request, from the copies ` +
        `the build compressed at brotli's best quality, scripts/precompress.ts, so a relay just started serves its first visitor those). A fresh Chromium context opens \`/\`, waits for the service worker to control the page and for the network to be ` +
        `quiet for 3 s (the precache is done); Playwright reports each response's size on the wire (a file the service worker fetches again ` +
        `from Chromium's HTTP cache counts 0). By part: the distinct files of that visit, compressed here with the relay's settings ` +
        `(the build's brotli copies, quality 11; gzip level 9; 1 MB = 10⁶ bytes).\n\n| part | files | raw MB | gzip MB | brotli MB |\n|---|---|---|---|---|\n${rows.join('\n')}`,
      figures,
      notes,
    }
  },
}
