/**
 * Relay memory: 10,000 documents touched (created by clients), then every client leaves and the relay
 * sits idle, longer than its idle time for eviction (sync-server/eviction.ts). Measured: the server
 * process's RSS while documents arrive, after idling, and after a forced garbage collection, on the
 * Placette relay and on the stock setup; and how many documents the relay holds in memory (/metrics).
 */
import { randomBytes } from 'node:crypto'
import * as A from '@automerge/automerge'
import { DEFAULT_CONFIG } from '../../sync-server/config.ts'
import { boardOptions, buildAutomerge, docUrl, generateBoard, idOf, Rng } from '../generate.ts'
import { cached } from '../lib/cache.ts'
import type { System } from '../lib/devices.ts'
import { RawPeer } from '../lib/raw-peer.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { startServer, type ServerChild } from '../lib/server-process.ts'
import { sleep, waitUntil } from '../lib/wait.ts'

const MB = 1024 * 1024

interface MemoryRun {
  /** [documents touched, RSS in bytes] while documents arrive. */
  curve: [number, number][]
  empty: number
  peak: number
  idle: number
  afterGc: number
  heapAfterGc: number
  pushSeconds: number
  /** Placette only (its /metrics gauge): most documents in memory seen while they arrive, and after idling. */
  peakInMemory?: number
  inMemoryAfterIdle?: number
}

/** The Placette relay's `placette_relay_documents_in_memory` gauge. */
async function documentsInMemory(server: ServerChild): Promise<number> {
  const body = await (await fetch(`${server.url}/metrics`)).text()
  const line = body.split('\n').find((l) => l.startsWith('placette_relay_documents_in_memory '))
  return Number(line?.split(' ')[1])
}

/** Pushes `count` documents through `clients` peers, at most `inFlight` per peer awaiting the server. */
async function pushDocuments(server: ServerChild, templates: Uint8Array[], count: number, onProgress: (done: number) => void): Promise<RawPeer[]> {
  const clients = 10
  // More in flight only queues up in the server (it takes about 20 new documents a second here).
  const inFlight = 10
  const rng = new Rng('relay-memory')
  let next = 0
  let done = 0
  const peers: RawPeer[] = []
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const pending = new Map<string, readonly string[]>()
      let wake: (() => void) | undefined
      const peer = new RawPeer({
        url: server.wsUrl,
        peerId: `bench-memory-${c}-${randomBytes(4).toString('hex')}`,
        storageId: randomBytes(16).toString('hex'),
        onSync: (id, heads) => {
          const want = pending.get(id)
          if (want && want.length === heads.length && want.every((h) => heads.includes(h))) {
            pending.delete(id)
            done++
            if (done % 250 === 0) onProgress(done)
            wake?.()
          }
        },
      })
      peers.push(peer)
      await peer.connect()
      while (next < count) {
        if (pending.size >= inFlight) {
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, 1000)
          })
          continue
        }
        const i = next++
        const id = idOf(docUrl(rng))
        const slot = { doc: A.load(templates[i % templates.length] as Uint8Array) }
        pending.set(id, A.getHeads(slot.doc))
        peer.add(id, slot)
      }
      await waitUntil(() => pending.size === 0, 'the server to hold every pushed document', 1_800_000, 20)
    }),
  )
  return peers
}

async function measureMemory(system: System, templates: Uint8Array[], count: number, idleMs: number, env: Record<string, string>, log: (m: string) => void): Promise<MemoryRun> {
  const server = await startServer(system === 'placette' ? 'placette' : 'stock', { env })
  let peakInMemory: number | undefined
  const sampleInMemory = () => {
    if (system !== 'placette') return
    void documentsInMemory(server).then(
      (n) => (peakInMemory = Math.max(peakInMemory ?? 0, n)),
      () => undefined,
    )
  }
  try {
    await sleep(500)
    await server.gc()
    const empty = server.rss()
    const curve: [number, number][] = [[0, empty]]
    let peak = empty
    const start = performance.now()
    const sampling = setInterval(sampleInMemory, 1000)
    const peers = await pushDocuments(server, templates, count, (done) => {
      const rss = server.rss()
      peak = Math.max(peak, rss)
      if (done % Math.max(250, count / 4) === 0) curve.push([done, rss])
      if (done % 1000 === 0) log(`relay-memory: ${system}: ${done} documents, RSS ${(rss / MB).toFixed(0)} MB, ${(done / ((performance.now() - start) / 1000)).toFixed(0)} documents/s`)
    })
    clearInterval(sampling)
    sampleInMemory()
    const pushSeconds = (performance.now() - start) / 1000
    peak = Math.max(peak, server.rss())
    for (const p of peers) p.close()
    log(`relay-memory: ${system}: all clients gone, idling ${idleMs / 1000} s`)
    const idleUntil = performance.now() + idleMs
    while (performance.now() < idleUntil) {
      await sleep(1000)
      peak = Math.max(peak, server.rss())
    }
    const idle = server.rss()
    const inMemoryAfterIdle = system === 'placette' ? await documentsInMemory(server) : undefined
    await server.gc()
    await sleep(500)
    const afterGc = server.rss()
    const heapAfterGc = (await server.memory()).heapUsed
    return { curve, empty, peak, idle, afterGc, heapAfterGc, pushSeconds, peakInMemory, inMemoryAfterIdle }
  } finally {
    await server.stop()
  }
}

const SYSTEMS: System[] = ['placette', 'stock']

export const relayMemory: Scenario = {
  id: 'relay-memory',
  title: 'Relay memory after many documents',
  goal: 'bounded (say what it is)',
  async run(ctx: RunContext) {
    const count = ctx.quick ? 200 : 10_000
    // The relay's own settings in a full run; in a quick one (200 documents, under the cap) a short idle
    // time, so that eviction runs too.
    const evictIdleMs = ctx.quick ? 1_000 : DEFAULT_CONFIG.evictIdleMs
    const maxInMemory = DEFAULT_CONFIG.maxDocumentsInMemory
    const env = { PLACETTE_EVICT_IDLE_MS: String(evictIdleMs), PLACETTE_MAX_DOCUMENTS_IN_MEMORY: String(maxInMemory) }
    // Idle long enough for the relay to evict (its idle time, plus its scans and the evictions themselves).
    const idleMs = evictIdleMs + (ctx.quick ? 4_000 : 30_000)
    const options = boardOptions('relay-memory', 1000, { deltaShare: 0, deltaEdits: 0 })
    const board = generateBoard(options)
    const docs = cached('relay-memory-automerge', options, () => buildAutomerge(board))
    // Member feeds of a real board (1 to 40 posts each, with comments and status changes) as templates.
    const templates = [...docs.full.values()].slice(1)
    const averageKb = templates.reduce((a, t) => a + t.byteLength, 0) / templates.length / 1000
    const runs: Partial<Record<System, MemoryRun>> = {}
    for (const system of SYSTEMS) {
      ctx.log(`relay-memory: ${system}: pushing ${count} documents`)
      runs[system] = await measureMemory(system, templates, count, idleMs, env, ctx.log)
    }
    const per = (f: (r: MemoryRun) => number) => Object.fromEntries(SYSTEMS.map((s) => [s, runs[s] ? [f(runs[s])] : []]))
    const n = count.toLocaleString('en')
    const figures: Figure[] = [
      { measure: `RSS with no document`, unit: 'MB', values: per((r) => r.empty / MB), digits: 0 },
      { measure: `peak RSS while ${n} documents arrive`, unit: 'MB', values: per((r) => r.peak / MB), digits: 0 },
      { measure: `RSS after ${idleMs / 1000} s idle, no client left`, unit: 'MB', values: per((r) => r.idle / MB), digits: 0 },
      { measure: `RSS after idle + forced GC`, unit: 'MB', values: per((r) => r.afterGc / MB), digits: 0 },
      { measure: `JS heap after forced GC`, unit: 'MB', values: per((r) => r.heapAfterGc / MB), digits: 0 },
      { measure: `retained per document (RSS after GC − empty) ÷ ${n}`, unit: 'KB', values: per((r) => (r.afterGc - r.empty) / count / 1024), digits: 1 },
      { measure: `time to receive ${n} documents`, unit: 's', values: per((r) => r.pushSeconds), digits: 1 },
      { measure: `documents in memory, most seen while they arrive (relay's /metrics)`, unit: 'docs', values: { placette: runs.placette?.peakInMemory !== undefined ? [runs.placette.peakInMemory] : [] }, digits: 0 },
      { measure: `documents in memory after ${idleMs / 1000} s idle`, unit: 'docs', values: { placette: runs.placette?.inMemoryAfterIdle !== undefined ? [runs.placette.inMemoryAfterIdle] : [] }, digits: 0 },
    ]
    const curves = SYSTEMS.map((s) => `- ${s}: ` + (runs[s]?.curve ?? []).map(([d, rss]) => `${d.toLocaleString('en')} docs → ${(rss / MB).toFixed(0)} MB`).join(', '))
    const placette = runs.placette
    return {
      method:
        `${n} new documents (copies of real member feeds, ${averageKb.toFixed(1)} KB saved on average) are pushed to a fresh server ` +
        `by 10 lightweight clients speaking automerge-repo's protocol (each with a storage ID, as app devices have), 10 documents in flight ` +
        `per client, each until the server reports holding its heads. Then every client disconnects and the server idles ` +
        `${idleMs / 1000} s; RSS is read from /proc/<pid>/status, then the server is asked to run its garbage collector (it runs with --expose-gc).\n\n` +
        `RSS while documents arrive:\n${curves.join('\n')}`,
      figures,
      notes: [
        `Eviction (sync-server/eviction.ts): the relay keeps at most ${maxInMemory.toLocaleString('en')} documents in memory ` +
          `(\`--max-documents-in-memory\`; the least recently active go first once quiet for 2 s, even if a client has them open) ` +
          `and evicts a document no client syncs after ${evictIdleMs / 1000} s idle (\`--evict-idle-ms\`), once its heads are on disk; ` +
          `it is loaded again when asked for. The stock server keeps every document.` +
          (placette
            ? ` Placette: ${(placette.afterGc / MB).toFixed(0)} MB after ${n} documents, idle and a forced GC (${(placette.heapAfterGc / MB).toFixed(0)} MB of JS heap; ` +
              `${((placette.afterGc - placette.heapAfterGc) / MB).toFixed(0)} MB outside it, mostly Automerge's wasm memory, which a wasm instance ` +
              `never hands back to the system: its high-water mark, reached while the cap's worth of documents is held, stays as RSS but is reused).`
            : ''),
      ],
    }
  },
}
