/**
 * Where the relay's memory goes per connected client: load clients (bench relay-load's, at a change a
 * minute, a pace the relay serves) join in steps; at each step, and again after RUN_MS of changes, the
 * relay's RSS (now and the peak since the last report), then after a forced GC its RSS by kind
 * (Automerge's wasm memory, other anonymous memory, files) and V8's heap spaces. Not part of
 * `npm run bench` (a 2,000-client run takes about 20 minutes). Used for bench/README.md's figures.
 *
 *   STEPS=400,800,1200 RUN_MS=70000 npx tsx bench/memory-per-client.ts
 *   SNAPSHOT=/tmp/relay.heapsnapshot …          # a V8 heap snapshot of the relay at the end
 *   RELAY_ENV='{"PLACETTE_HEAP_MB":"0"}' …   # the relay with more environment (here: V8's own heap limit, uncapped)
 */
import { boardOptions, buildAutomerge, generateBoard, idOf } from './generate.ts'
import { cached } from './lib/cache.ts'
import { readMemoryParts, startServer } from './lib/server-process.ts'
import { sleep } from './lib/wait.ts'
import { Load } from './scenarios/relay-load.ts'

const steps = (process.env.STEPS ?? '400,800').split(',').map(Number)
const runMs = Number(process.env.RUN_MS ?? 0)
const MB = 1024 * 1024
const mb = (bytes: number) => (bytes / MB).toFixed(0)

const options = boardOptions('relay-load', 100, { members: 20, deltaShare: 0, deltaEdits: 0 })
const board = generateBoard(options)
const docs = cached('relay-load-automerge', options, () => buildAutomerge(board))
const order = [idOf(board.neighbourhoodUrl), ...board.members.map((m) => idOf(m.feedUrl))]
const template = order.map((id) => ({ id, bin: docs.full.get(id) as Uint8Array }))
const relayEnv = { PLACETTE_MAX_DOCUMENTS_IN_MEMORY: '3000', ...(process.env.RELAY_ENV ? (JSON.parse(process.env.RELAY_ENV) as Record<string, string>) : {}) }
const server = await startServer('placette', { env: relayEnv })
const load = new Load(server, template, { withStorageId: true, changeEveryMs: 60_000, joinBudgetMs: 480_000 })

let peak = 0
const sampler = setInterval(() => (peak = Math.max(peak, server.rss())), 500)
const report = async (label: string) => {
  const rss = server.rss()
  peak = Math.max(peak, rss)
  console.log(`${label}: ${load.connected} clients joined (${load.refusedBusy} joins turned away so far); RSS ${mb(rss)} MB, peak ${mb(peak)} MB; relay CPU so far ${server.cpuSeconds().toFixed(0)} s`)
  peak = 0
  await server.gc()
  const m = await server.memory()
  const p = readMemoryParts(server.pid)
  console.log(
    `  after GC: RSS ${mb(server.rss())} MB = wasm ${mb(p.wasm)} + other anonymous ${mb(p.anonymous)} + files ${mb(p.files)}; ` +
      `V8 heap ${mb(m.heapUsed)} used of ${mb(m.heapTotal)}, external ${mb(m.external)} MB`,
  )
  console.log(`  heap spaces (MB, size/used): ${m.spaces.map((x) => `${x.space_name.replace('_space', '')} ${mb(x.space_size)}/${mb(x.space_used_size)}`).join(', ')}`)
}
try {
  for (const n of steps) {
    const lane = async () => {
      while (load.peers.length < n) await load.addNeighbourhood(60_000)
    }
    await Promise.all([lane(), lane(), lane()])
    await report(`${n} clients`)
    if (runMs > 0) {
      await sleep(runMs)
      await report(`${n} clients, after ${runMs / 1000} s of changes`)
    }
  }
  if (process.env.SNAPSHOT) await server.heapSnapshot(process.env.SNAPSHOT)
} finally {
  clearInterval(sampler)
  await load.close()
  await server.stop()
}
