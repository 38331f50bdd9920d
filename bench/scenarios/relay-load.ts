/**
 * Relay load: WebSocket clients spread over neighbourhoods of 20 members; each client holds its
 * neighbourhood's documents (the neighbourhood document and 20 feeds) and changes its own feed every
 * 10 s; the server relays each change to the 19 other members. Measured: the server's RSS and CPU,
 * and the latency of a change to each of the 19 other clients; the client count grows in steps until
 * p95 goes over 200 ms (or the generator, not the relay, becomes the limit).
 */
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import * as A from '@automerge/automerge'
import { boardOptions, buildAutomerge, docUrl, generateBoard, idOf, Rng } from '../generate.ts'
import { cached } from '../lib/cache.ts'
import type { System } from '../lib/devices.ts'
import { PROBE_SOCKETS, startLatencyProbe, type LatencyProbe } from '../lib/latency-probe.ts'
import { openingMessage, RawPeer } from '../lib/raw-peer.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { startServer, type ServerChild } from '../lib/server-process.ts'
import { quantile, Samples } from '../lib/stats.ts'
import { sleep } from '../lib/wait.ts'
import { CloseCode, retryAfterSeconds } from '../../shared/protocol.ts'

const MEMBERS = 20
/** The issue's workload: every client changes its feed every 10 s. */
const CHANGE_EVERY_MS = 10_000
/**
 * A pace one core of this machine serves for 2,000 clients (a change a minute each, about as many
 * changes a second as 330 clients of the issue's workload): how much memory 2,000 connected devices
 * take when the relay keeps up, which the issue's pace cannot show here.
 */
const SERVED_PACE_MS = 60_000
const SERVED_CLIENTS = 2_000
/** The relay's cap on documents in memory for that run: above its 2,100 documents. */
const SERVED_CAP = 3_000
const MB = 1024 * 1024

interface StepResult {
  /** The step's client count; `clients` is how many were started within the time budget. */
  aimed: number
  clients: number
  /** Clients whose join handshake completed. */
  connected: number
  /** The same when the relay's open sockets were read, at the end of the window (turned-away clients may join later). */
  connectedAtEnd: number
  /** Joins the relay turned away as busy during the step (each tried again later, as the app does). */
  busyRefusals: number
  neighbourhoods: number
  /** Latency measured by the probe (its own process; see bench/lib/latency-probe.ts). */
  p50: number
  p95: number
  p99: number
  samples: number
  /** The same, as the load's own clients saw their changes arrive (inflated by the generator's own load). */
  loadP50: number
  loadP95: number
  loadSamples: number
  /** Probe pairs whose socket closed during the window (replaced after 1 s). */
  probeCut: number
  /** Sockets the Placette relay cut as slow consumers during the window, and sockets open at its end (its /metrics). */
  shed: number
  open: number
  /** Changes whose delivery to some member was still missing at the end of the window. */
  lost: number
  rssMb: number
  cpuPercent: number
  /** The load generator's own event-loop delay (p99, ms): high means the generator, not the relay, is late. */
  generatorLagMs: number
  /** The load generator's own CPU use over the window (100 % = one core). */
  generatorCpuPercent: number
  /** From the first new connection to every newcomer's initial sync answered. */
  connectSeconds: number
  /** Clients whose initial sync was still unanswered when the window began. */
  unsettled: number
  /** Time spent waiting for a steady state before the measured window. */
  warmSeconds: number
  /** Durable storage writes a second and their mean duration (Placette relay's /metrics; NaN elsewhere). */
  writesPerSecond: number
  msPerWrite: number
}

/**
 * Sockets gone by the end of a step's window (the probe's included): the relay dropped them (a
 * slow-consumer cut, or pings unanswered while it was behind). 0 for a server without /metrics.
 */
const dropped = (r: StepResult): number => (Number.isFinite(r.open) ? Math.max(0, r.connectedAtEnd + PROBE_SOCKETS - r.open) : 0)

/** From the Placette relay's /metrics: storage writes and their seconds, slow-consumer cuts, open sockets (NaN elsewhere). */
async function relayMetrics(server: ServerChild): Promise<{ count: number; seconds: number; shed: number; open: number }> {
  if (server.kind !== 'placette') return { count: NaN, seconds: NaN, shed: NaN, open: NaN }
  const text = await fetch(`${server.url}/metrics`).then((r) => r.text(), () => '')
  const read = (name: string, fallback = NaN) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? fallback)
  return {
    count: read('placette_relay_storage_write_seconds_count'),
    seconds: read('placette_relay_storage_write_seconds_sum'),
    shed: read('placette_relay_frames_refused_total{reason="slow-consumer"}', 0),
    open: read('placette_relay_connections'),
  }
}

interface LoadOptions {
  /** false: clients without storage (the server then keeps no sync state of theirs on disk). */
  withStorageId: boolean
  /** How often each client changes its feed. */
  changeEveryMs: number
  /** Longest time a step may take to bring its newcomers in (default 180 s). */
  joinBudgetMs?: number
  /** More environment for the relay (e.g. `PLACETTE_MAX_DOCUMENTS_IN_MEMORY`). */
  relayEnv?: Record<string, string>
}

const ISSUE_LOAD: LoadOptions = { withStorageId: true, changeEveryMs: CHANGE_EVERY_MS }

interface Pending {
  at: number
  remaining: number
}

/** The load: neighbourhoods of raw peers and the probes that time each change's delivery. */
export class Load {
  readonly peers: RawPeer[] = []
  readonly samples = new Samples()
  readonly pending = new Map<string, Pending>()
  readonly #timers: ReturnType<typeof setTimeout>[] = []
  readonly #server: ServerChild
  readonly #template: { id: string; bin: Uint8Array }[]
  /** What a device holding each template document sends first about it (followers send these). */
  readonly #openings: Uint8Array[]
  readonly #rng = new Rng('relay-load')
  neighbourhoods = 0
  measuring = false
  /** How the clients' join handshakes ended. */
  connected = 0
  failed = 0
  /** Times a client was told the relay was busy (each is tried again later, as the app does). */
  refusedBusy = 0

  readonly #withStorageId: boolean
  readonly #changeEveryMs: number
  readonly joinBudgetMs: number

  constructor(server: ServerChild, template: { id: string; bin: Uint8Array }[], options: LoadOptions) {
    this.#server = server
    this.#template = template
    this.#openings = template.map((t) => openingMessage(A.load(t.bin)))
    this.#withStorageId = options.withStorageId
    this.#changeEveryMs = options.changeEveryMs
    this.joinBudgetMs = options.joinBudgetMs ?? 180_000
  }

  /**
   * Adds one neighbourhood of 20 clients; resolves once each has joined (or given up) and had every
   * document answered once, or after `timeoutMs`.
   */
  async addNeighbourhood(timeoutMs: number): Promise<void> {
    const n = this.neighbourhoods++
    // The same content as the template, under new document IDs: to the relay, new documents.
    const ids = this.#template.map(() => idOf(docUrl(this.#rng)))
    // Loaded once per neighbourhood; each holder gets its own copy (cloning is cheap, loading is not).
    const base = this.#template.map((t) => A.load(t.bin))
    const peers: RawPeer[] = []
    const joins: Promise<void>[] = []
    for (let m = 0; m < MEMBERS; m++) {
      const own = m + 1 // index 0 is the neighbourhood document; the client writes feed `own`
      const peer = new RawPeer({
        url: this.#server.wsUrl,
        peerId: `bench-load-${n}-${m}-${randomBytes(3).toString('hex')}`,
        storageId: this.#withStorageId ? randomBytes(16).toString('hex') : undefined,
        onChanges: (_doc, heads, now) => this.#delivered(heads, now),
      })
      this.peers.push(peer)
      peers.push(peer)
      joins.push(
        this.#connect(peer, performance.now() + this.joinBudgetMs).then(
          () => {
            this.connected++
            // A client holds what it writes (its feed; the first one also the neighbourhood document, so
            // that each document has one holder to bring it to the relay) and follows the rest.
            ids.forEach((id, i) => {
              if (i === own || (m === 0 && i === 0)) peer.add(id, { doc: A.clone(base[i] as A.Doc<unknown>) })
              else peer.follow(id, this.#openings[i] as Uint8Array)
            })
            this.#startWriting(peer, ids[own] as string, n, m)
          },
          () => void this.failed++,
        ),
      )
    }
    const deadline = performance.now() + timeoutMs
    await Promise.race([Promise.allSettled(joins), sleep(timeoutMs)])
    while (peers.some((p) => p.awaiting.size > 0) && performance.now() < deadline) await sleep(100)
  }

  /**
   * Connects as the app does: a relay that says it is busy (close code 4503) is tried again when it
   * said, spread from half to one and a half times its delay, until `deadline`.
   */
  async #connect(peer: RawPeer, deadline: number): Promise<void> {
    for (;;) {
      try {
        return await peer.connect()
      } catch (err) {
        const close = peer.lastClose
        if (close?.code !== CloseCode.busy) throw err
        this.refusedBusy++
        const delay = retryAfterSeconds(close.reason) * 1000 * (0.5 + Math.random())
        if (performance.now() + delay > deadline) throw err
        await sleep(delay)
      }
    }
  }

  /** The client changes its own feed at the load's pace, at its own phase. */
  #startWriting(peer: RawPeer, feed: string, n: number, m: number): void {
    let k = 0
    const write = () => {
      const heads = peer.change(feed, (d) => {
        const doc = d as { comments?: Record<string, unknown> }
        doc.comments ??= {}
        const id = `cLoad${n}x${m}x${k++}`
        doc.comments[id] = { id, body: new A.ImmutableString('Je peux aider samedi.'), createdAt: Date.now() }
      })
      if (this.measuring) for (const h of heads) this.pending.set(h, { at: performance.now(), remaining: MEMBERS - 1 })
    }
    const first = setTimeout(() => {
      write()
      this.#timers.push(setInterval(write, this.#changeEveryMs))
    }, this.#rng.int(this.#changeEveryMs))
    this.#timers.push(first)
  }

  #delivered(heads: readonly string[], now: number): void {
    for (const h of heads) {
      const p = this.pending.get(h)
      if (!p) continue
      this.samples.push(now - p.at)
      if (--p.remaining <= 0) this.pending.delete(h)
    }
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t)
    for (const p of this.peers) p.terminate()
  }
}

async function step(
  load: Load,
  server: ServerChild,
  probe: LatencyProbe,
  clients: number,
  windowMs: number,
  settleMs: number,
  warmMs: number,
  log: (m: string) => void,
): Promise<StepResult> {
  const start = performance.now()
  const refused0 = load.refusedBusy
  // Three neighbourhoods join at a time, each after the server has answered the one before in its lane:
  // the ramp goes as fast as the server takes it. Bounded: a server that cannot keep up within the
  // budget is measured with the clients it took.
  const connectMs = Math.min(load.joinBudgetMs, Math.max(60_000, (clients - load.peers.length) * 300))
  const connectUntil = start + connectMs
  const lane = async () => {
    while (load.peers.length < clients && performance.now() < connectUntil) await load.addNeighbourhood(Math.max(1000, Math.min(settleMs, connectUntil - performance.now())))
  }
  await Promise.all([lane(), lane(), lane()])
  if (load.connected < load.peers.length)
    log(`relay-load: ${server.kind}: ${load.connected} of ${load.peers.length} clients joined within ${connectMs / 1000} s (${load.failed} gave up; ${load.refusedBusy - refused0} joins turned away as busy)`)
  // Let the newcomers' initial syncs finish (every document answered once), then the server's writes settle.
  const settleUntil = performance.now() + settleMs
  while (load.peers.some((p) => p.awaiting.size > 0) && performance.now() < settleUntil) await sleep(250)
  const unsettled = load.peers.filter((p) => p.awaiting.size > 0).length
  if (unsettled) log(`relay-load: ${server.kind}: ${unsettled} clients still waiting for their first answers after ${settleMs / 1000} s; measuring anyway`)
  const connectSeconds = (performance.now() - start) / 1000
  // Steady state: the server may still be working off what the joins left (e.g. queued writes). Watch
  // 5 s windows until p95 is within 200 ms, for at most `warmMs`.
  const warmStart = performance.now()
  load.measuring = true
  while (warmMs > 0) {
    probe.reset()
    await sleep(5_000)
    const p95 = quantile((await probe.collect()).values, 0.95)
    if (p95 <= 200 || performance.now() - warmStart >= warmMs) break
    log(`relay-load: ${server.kind}: warming up, p95 ${Number.isFinite(p95) ? p95.toFixed(0) : '—'} ms over the last 5 s`)
  }
  const warmSeconds = (performance.now() - warmStart) / 1000
  const lag = monitorEventLoopDelay({ resolution: 10 })
  load.samples.clear()
  load.pending.clear()
  load.measuring = true
  lag.enable()
  probe.reset()
  const cpu0 = server.cpuSeconds()
  const own0 = process.cpuUsage()
  const metrics0 = await relayMetrics(server)
  const t0 = performance.now()
  let rss = 0
  const until = t0 + windowMs
  while (performance.now() < until) {
    await sleep(1000)
    rss = Math.max(rss, server.rss())
  }
  load.measuring = false
  const probed = await probe.collect()
  const elapsed = (performance.now() - t0) / 1000
  const cpuPercent = ((server.cpuSeconds() - cpu0) / elapsed) * 100
  const own = process.cpuUsage(own0)
  const generatorCpuPercent = ((own.user + own.system) / 1e6 / elapsed) * 100
  const metrics1 = await relayMetrics(server)
  const connectedAtEnd = load.connected
  // Give the window's changes time to arrive (what never comes is counted as not fully delivered).
  const graceUntil = performance.now() + 10_000
  while (load.pending.size && performance.now() < graceUntil) await sleep(100)
  lag.disable()
  const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => quantile(probed.values, q)) as [number, number, number]
  const [loadP50, loadP95] = load.samples.quantiles([0.5, 0.95]) as [number, number]
  const result: StepResult = {
    aimed: clients,
    clients: load.peers.length,
    connected: load.connected,
    connectedAtEnd,
    busyRefusals: load.refusedBusy - refused0,
    neighbourhoods: load.neighbourhoods,
    p50,
    p95,
    p99,
    samples: probed.values.length,
    probeCut: probed.cut,
    shed: metrics1.shed - metrics0.shed,
    open: metrics1.open,
    loadP50,
    loadP95,
    loadSamples: load.samples.length,
    lost: load.pending.size,
    rssMb: rss / MB,
    cpuPercent,
    generatorLagMs: lag.percentile(99) / 1e6,
    generatorCpuPercent,
    connectSeconds,
    unsettled,
    warmSeconds,
    writesPerSecond: (metrics1.count - metrics0.count) / elapsed,
    msPerWrite: ((metrics1.seconds - metrics0.seconds) / (metrics1.count - metrics0.count)) * 1000,
  }
  log(
    `relay-load: ${server.kind}: ${result.clients} clients: probe p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms ` +
      `(as the load's clients saw it: p50 ${loadP50.toFixed(0)} ms, p95 ${loadP95.toFixed(0)} ms), ` +
      `RSS ${result.rssMb.toFixed(0)} MB, CPU ${cpuPercent.toFixed(0)} %, generator lag p99 ${result.generatorLagMs.toFixed(0)} ms`,
  )
  return result
}

/** Runs the steps on one server, up to `target` in any case, beyond it while p95 stays within 200 ms. */
async function ramp(
  system: System,
  steps: number[],
  target: number,
  windowMs: number,
  template: { id: string; bin: Uint8Array }[],
  settleMs: number,
  warmMs: number,
  log: (m: string) => void,
  loadOptions: LoadOptions = ISSUE_LOAD,
): Promise<StepResult[]> {
  const server = await startServer(system === 'placette' ? 'placette' : 'stock', { env: loadOptions.relayEnv })
  const load = new Load(server, template, loadOptions)
  const results: StepResult[] = []
  let probe: LatencyProbe | undefined
  try {
    probe = await startLatencyProbe(server.wsUrl)
    // Up the steps while p95 holds and the generator fills them; after the first step that does not,
    // straight to the target (for its RSS and CPU), then stop: a saturated server only gets slower, a
    // generator that cannot fill a step will not fill a bigger one, and the run must stay bounded.
    let failed = false
    for (const clients of steps) {
      if (failed && clients !== target) continue
      const r = await step(load, server, probe, clients, windowMs, settleMs, warmMs, log)
      results.push(r)
      if (!(r.p95 <= 200) || r.connected < clients || dropped(r) > 0) {
        if (clients >= target) break
        failed = true
      }
    }
  } finally {
    probe?.stop()
    await load.close()
    await server.stop()
  }
  return results
}

export const relayLoad: Scenario = {
  id: 'relay-load',
  title: 'Relay under load',
  goal: 'RSS ≤ 500 MB at 2,000 clients; the largest client count with p95 ≤ 200 ms',
  async run(ctx: RunContext) {
    // BENCH_RELAY_STEPS=200 (comma-separated) runs only those steps, on the Placette relay only, with
    // the quick or full timings: for comparing a change to the relay before and after at one load.
    const only = (process.env.BENCH_RELAY_STEPS ?? '').split(',').filter(Boolean).map(Number)
    const windowMs = ctx.quick ? 4_000 : 20_000
    const placetteSteps = only.length ? only : ctx.quick ? [40] : [20, 40, 60, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000]
    const settleMs = ctx.quick ? 20_000 : 60_000
    const warmMs = ctx.quick ? 0 : 60_000
    const stockSteps = only.length ? [] : ctx.quick ? [40] : [2000]
    const target = only.length ? Math.max(...only) : ctx.quick ? 40 : 2000
    const options = boardOptions('relay-load', 100, { members: MEMBERS, deltaShare: 0, deltaEdits: 0 })
    const board = generateBoard(options)
    const docs = cached('relay-load-automerge', options, () => buildAutomerge(board))
    const order = [idOf(board.neighbourhoodUrl), ...board.members.map((m) => idOf(m.feedUrl))]
    const template = order.map((id) => ({ id, bin: docs.full.get(id) as Uint8Array }))

    ctx.log(`relay-load: placette: steps ${placetteSteps.join(', ')} clients`)
    const placette = await ramp('placette', placetteSteps, target, windowMs, template, settleMs, warmMs, ctx.log)
    ctx.log(`relay-load: stock: ${stockSteps.join(', ')} clients`)
    const stock = !stockSteps.length ? [] : await ramp('stock', stockSteps, target, windowMs, template, settleMs, warmMs, ctx.log)
    // The same load, at the first step the relay did not hold, from clients with no storage ID: the
    // relay then saves no sync state for them. Says how much of the cost is those writes.
    // Only at a step the generator filled: otherwise the comparison would measure the generator.
    const firstMiss = placette.find((r) => !(r.p95 <= 200) && r.connected >= r.aimed)
    const probeStep = firstMiss?.aimed
    const skipEphemeral = ctx.quick || probeStep === undefined
    ctx.log(`relay-load: placette, clients without storage ID: ${skipEphemeral ? `skipped (${ctx.quick ? '--quick' : 'every filled step held'})` : `${probeStep} clients`}`)
    const ephemeral = skipEphemeral ? [] : await ramp('placette', [probeStep], probeStep, windowMs, template, settleMs, warmMs, ctx.log, { ...ISSUE_LOAD, withStorageId: false })
    // The same clients at a pace the relay serves: what 2,000 connected devices cost it when it keeps up.
    const servedClients = only.length ? 0 : ctx.quick ? 40 : SERVED_CLIENTS
    ctx.log(`relay-load: placette, a change a minute: ${servedClients ? `${servedClients} clients` : 'skipped (BENCH_RELAY_STEPS)'}`)
    // 2,000 clients hold 2,100 documents, all of them in use: above the relay's default cap of 1,000
    // documents in memory, it evicts and reloads them all the time (measured: CPU 101 %, p95 16 s at
    // 1,340 clients); an operator sizes the cap to the neighbourhoods served (sync-server/README.md).
    const servedLoad = { withStorageId: true, changeEveryMs: SERVED_PACE_MS, joinBudgetMs: 480_000, relayEnv: { PLACETTE_MAX_DOCUMENTS_IN_MEMORY: String(SERVED_CAP) } }
    const served = servedClients ? (await ramp('placette', [servedClients], servedClients, windowMs * 3, template, settleMs, warmMs, ctx.log, servedLoad))[0] : undefined

    const at = (rs: StepResult[]) => rs.find((r) => r.aimed === target)
    // A step counts if the probe's p95 is within 200 ms, no socket was dropped, and the step was filled
    // or the relay itself turned the rest away (admission, sync-server/admission.ts): then it held the
    // clients it took. A step the generator could not fill alone says nothing of the relay.
    const held = (rs: StepResult[]) => Math.max(0, ...rs.filter((r) => r.p95 <= 200 && (r.connected >= r.aimed || r.busyRefusals > 0) && !dropped(r)).map((r) => r.connected))
    const one = (r: StepResult | undefined, f: (r: StepResult) => number) => (r && Number.isFinite(f(r)) ? [f(r)] : [])
    const t = target.toLocaleString('en')
    const reachedTarget = (at(placette)?.connected ?? 0) >= target
    const shortOf = (r: StepResult | undefined) => (r ? `only ${r.connected.toLocaleString('en')} joined` : 'not run')
    const shortOrAll = (r: StepResult) => (r.connected >= r.aimed ? 'all joined' : shortOf(r))
    const figures: Figure[] = [
      // The goal is at the target: a step the generator could not fill says how far it got, and is not judged.
      {
        measure: reachedTarget ? `relay RSS at ${t} clients` : `relay RSS at the ${t}-client step (Placette: ${shortOf(at(placette))})`,
        unit: 'MB',
        values: { placette: one(at(placette), (r) => r.rssMb), stock: one(at(stock), (r) => r.rssMb) },
        ...(reachedTarget ? { goal: { max: 500, text: '≤ 500 MB' } } : {}),
        digits: 0,
      },
      { measure: `relay CPU at ${t} clients (100 % = one core)`, unit: '%', values: { placette: one(at(placette), (r) => r.cpuPercent), stock: one(at(stock), (r) => r.cpuPercent) }, digits: 0 },
      { measure: `p50 latency at ${t} clients (probe)`, unit: 'ms', values: { placette: one(at(placette), (r) => r.p50), stock: one(at(stock), (r) => r.p50) }, digits: 0 },
      { measure: `p95 latency at ${t} clients (probe)`, unit: 'ms', values: { placette: one(at(placette), (r) => r.p95), stock: one(at(stock), (r) => r.p95) }, digits: 0 },
      {
        measure: `p95 latency at ${t} clients as the load's own clients saw it (upper bound: the generator's own delays included)`,
        unit: 'ms',
        values: { placette: one(at(placette), (r) => r.loadP95), stock: one(at(stock), (r) => r.loadP95) },
        digits: 0,
      },
      ...(probeStep === undefined
        ? []
        : [
            {
              measure: `p95 latency at ${probeStep.toLocaleString('en')} clients (first step not held), clients with storage IDs as app devices have`,
              unit: 'ms',
              values: { placette: one(firstMiss, (r) => r.p95) },
              digits: 0,
            },
            {
              measure: `p95 latency at ${probeStep.toLocaleString('en')} clients, the same clients without storage IDs (no sync state saved)`,
              unit: 'ms',
              values: { placette: one(ephemeral[0], (r) => r.p95) },
              digits: 0,
            },
          ]),
      { measure: 'largest client count held with p95 ≤ 200 ms (probe; at a step the relay turned joins away, the clients it took)', unit: 'clients', values: { placette: [held(placette)] }, digits: 0 },
      // With admission the relay decides how many it takes: what it then served, and how well, is the figure.
      ...(at(placette)?.busyRefusals
        ? [{ measure: `clients the Placette relay took at the ${t}-client step (the rest turned away as busy, told to come back)`, unit: 'clients', values: { placette: one(at(placette), (r) => r.connected) }, digits: 0 }]
        : []),
      ...(served
        ? [
            { measure: `relay RSS with ${servedClients.toLocaleString('en')} clients changing once a minute (${shortOrAll(served)})`, unit: 'MB', values: { placette: [served.rssMb] }, digits: 0 },
            { measure: `relay CPU with ${servedClients.toLocaleString('en')} clients changing once a minute (100 % = one core)`, unit: '%', values: { placette: [served.cpuPercent] }, digits: 0 },
            { measure: `p95 latency with ${servedClients.toLocaleString('en')} clients changing once a minute (probe)`, unit: 'ms', values: { placette: one(served, (r) => r.p95) }, digits: 0 },
            { measure: `p95 latency with ${servedClients.toLocaleString('en')} clients changing once a minute, as the load's clients saw it`, unit: 'ms', values: { placette: one(served, (r) => r.loadP95) }, digits: 0 },
          ]
        : []),
    ]
    const row = (s: string, r: StepResult) =>
      `| ${s} | ${r.clients} | ${r.connected} | ${r.busyRefusals} | ${r.neighbourhoods} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.samples} | ${r.probeCut} | ${Number.isFinite(r.shed) ? r.shed : '—'} | ${Number.isFinite(r.open) ? r.open : '—'} | ${r.loadP50.toFixed(0)} | ${r.loadP95.toFixed(0)} | ${r.loadSamples} | ${r.lost} | ${r.rssMb.toFixed(0)} | ${r.cpuPercent.toFixed(0)} | ${r.generatorLagMs.toFixed(0)} | ${r.generatorCpuPercent.toFixed(0)} | ${r.connectSeconds.toFixed(0)} | ${r.unsettled} | ${r.warmSeconds.toFixed(0)} | ${Number.isFinite(r.writesPerSecond) ? r.writesPerSecond.toFixed(0) : '—'} | ${Number.isFinite(r.msPerWrite) ? r.msPerWrite.toFixed(1) : '—'} |`
    const details = [
      '| server | clients | joined | joins turned away (busy) | neighbourhoods | probe p50 ms | probe p95 ms | probe p99 ms | probe deliveries | probe sockets lost | sockets the relay cut as slow consumers | sockets open at the end | load clients’ p50 ms | load clients’ p95 ms | load deliveries timed | load changes not fully delivered | RSS MB | CPU % | generator lag p99 ms | generator CPU % | s to connect and sync the newcomers | clients not yet synced | s waited for a steady state | storage writes/s | ms per write |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...placette.map((r) => row('placette', r)),
      ...stock.map((r) => row('stock', r)),
      ...ephemeral.map((r) => row('placette, no storage IDs', r)),
      ...(served ? [row('placette, a change a minute', served)] : []),
    ].join('\n')
    const notes: string[] = []
    const p = at(placette)
    const s = at(stock)
    const e = ephemeral[0]
    const p95 = (r: StepResult) => (r.samples ? `p95 ${r.p95.toFixed(0)} ms` : 'no change delivered within the window')
    const unfilled = placette.find((r) => r.connected < r.aimed)
    const heldAt = held(placette)
    const heldStep = placette.find((r) => r.connected === heldAt)
    if (!heldStep) notes.push(`The Placette relay held p95 ≤ 200 ms (probe) at none of the steps tried (from ${placetteSteps[0]} clients).`)
    else
      notes.push(
        `The Placette relay held p95 ≤ 200 ms (probe) up to ${heldAt.toLocaleString('en')} clients (probe p50 ${heldStep.p50.toFixed(0)} ms, ` +
          `p95 ${heldStep.p95.toFixed(0)} ms; as the load's own clients saw it p50 ${heldStep.loadP50.toFixed(0)} ms, p95 ${heldStep.loadP95.toFixed(0)} ms)` +
          (heldStep.connected < heldStep.aimed
            ? `, at the ${heldStep.aimed.toLocaleString('en')}-client step, where it turned joins away ${heldStep.busyRefusals.toLocaleString('en')} times (saturated, or past the rate at which it takes newcomers) and served the clients it took.`
            : '.'),
      )
    // A server whose probe is quick may still not be serving its load: count what the load received.
    const expected = (r: StepResult) => r.connected * (windowMs / CHANGE_EVERY_MS) * (MEMBERS - 1)
    for (const [name, r] of [['stock setup', s], ['Placette relay (clients without storage ID)', e]] as const)
      if (r && r.loadSamples < expected(r) / 2)
        notes.push(
          `The ${name} at ${r.connected.toLocaleString('en')} clients: probe p95 ${r.p95.toFixed(0)} ms, but its load's clients timed only ` +
            `${r.loadSamples.toLocaleString('en')} of about ${Math.round(expected(r)).toLocaleString('en')} deliveries (${r.lost.toLocaleString('en')} changes not fully delivered` +
            `${r.unsettled ? `, ${r.unsettled} newcomers still unsynced` : ''}): it does not hold that step either.`,
        )
    const behind = placette.filter((r) => !(r.p95 <= 200) || dropped(r) > 0 || !r.loadSamples)
    for (const r of behind)
      notes.push(
        `At ${r.clients.toLocaleString('en')} clients the Placette relay fell behind: ` +
          (r.samples ? `probe p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms` : 'not one probe change arrived within the window') +
          (r.loadSamples ? '' : ', no change of the load reached its members') +
          (r.unsettled ? `, ${r.unsettled} newcomers had not finished their first sync after ${settleMs / 1000} s` : '') +
          (dropped(r) ? `; ${r.open} of its ${r.connectedAtEnd + PROBE_SOCKETS} sockets were still open at the end of the window (${r.shed} cut as slow consumers; the rest most likely dropped by its keep-alive, pings unanswered for 30 s while it was behind on its inbound frames)` : '') +
          (r.probeCut ? `; the probe lost its sockets ${r.probeCut} times` : '') +
          '.',
      )
    if (!firstMiss && unfilled && unfilled.p95 <= 200 && !dropped(unfilled) && !unfilled.busyRefusals)
      notes.push(
        `At the ${unfilled.aimed.toLocaleString('en')} step the generator joined only ${unfilled.connected.toLocaleString('en')} clients within its time budget ` +
          `(probe p95 there: ${unfilled.p95.toFixed(0)} ms): past that, this machine measures the generator, not the relay.`,
      )
    for (const [name, r] of [['Placette relay', p], ['stock setup', s], ['Placette relay (clients without storage ID)', e]] as const)
      if (r && r.connected < r.aimed)
        notes.push(
          `At the ${t}-client step only ${r.connected.toLocaleString('en')} clients had joined the ${name} within the step's time budget ` +
            `(${r.connectSeconds.toFixed(0)} s for the step; each join is 21 document syncs)` +
            (r.busyRefusals
              ? `: the relay turned joins away ${r.busyRefusals.toLocaleString('en')} times, saturated or taking newcomers at its rate (sync-server/admission.ts), ` +
                `and served the ones it took at ${p95(r)} (probe)`
              : '') +
            `; its figures "at ${t} clients" are for that many.`,
        )
    if (firstMiss) {
      const w = firstMiss
      notes.push(
        `At ${w.clients} clients the Placette relay: ${p95(w)}` +
          (s ? `; the stock setup at ${s.clients} clients: ${p95(s)}` : '') +
          `. It made ${w.writesPerSecond.toFixed(0)} durable storage writes a second, ${w.msPerWrite.toFixed(0)} ms each on average ` +
          `(its /metrics): at most one per document per change, written crash-safely (temp file, fsync, rename, fsync of the folder); ` +
          `sync states are kept in memory and written in the background without fsync (sync-server/storage/sync-state-cache.ts), so ` +
          `they are not counted here. ` +
          (e ? `With the same ${e.clients} clients without a storage ID (no sync state saved): ${p95(e)}, ${e.writesPerSecond.toFixed(0)} writes a second. ` : '') +
          `Where the time goes and what is left: sync-server/README.md, "Under load".`,
      )
    }
    if (served) {
      const perMinute = served.connected * (60_000 / SERVED_PACE_MS)
      notes.push(
        `At a pace the relay serves, ${served.connected.toLocaleString('en')} clients each changing once a minute (${perMinute.toLocaleString('en')} changes a minute, each to ${MEMBERS - 1} members): ` +
          `RSS ${served.rssMb.toFixed(0)} MB (the 500 MB of the goal is for the issue's pace, which this relay does not serve on one core past the held count above), CPU ${served.cpuPercent.toFixed(0)} %, ` +
          `probe ${served.samples ? `p50 ${served.p50.toFixed(0)} ms, p95 ${served.p95.toFixed(0)} ms` : 'no change delivered'}, the load's clients p95 ${served.loadP95.toFixed(0)} ms over ${served.loadSamples.toLocaleString('en')} deliveries` +
          `${served.lost ? ` (${served.lost} changes not fully delivered)` : ''}${dropped(served) ? `; ${dropped(served)} sockets dropped` : ''}.`,
      )
    }
    if (p && p.rssMb > 500) notes.push(`RSS at ${t} clients is ${p.rssMb.toFixed(0)} MB, over the 500 MB goal: memory grows with documents held (see relay-memory) and with the writes queued behind the disk.`)
    const busy = [...placette.map((r) => ['placette', r] as const), ...stock.map((r) => ['stock', r] as const), ...ephemeral.map((r) => ['placette without storage IDs', r] as const)].filter(
      ([, r]) => r.generatorLagMs > 50 || r.generatorCpuPercent > 80,
    )
    if (busy.length)
      notes.push(
        `The load generator itself was busy at ${busy.map(([name, r]) => `${r.clients} clients (${name}: event-loop delay p99 ${r.generatorLagMs.toFixed(0)} ms, CPU ${r.generatorCpuPercent.toFixed(0)} %)`).join(', ')}: ` +
          `on 2 cores the generator and the server compete: the latencies its clients saw there are an upper bound for the server, ` +
          `the probe's (its own light process) are what the server took, on a machine the generator keeps busy.`,
      )
    return {
      method:
        `Lightweight clients (one process, automerge-repo's WebSocket protocol with raw Automerge sync states, a storage ID each as app ` +
        `devices have, permessage-deflate offered as browsers do) join neighbourhoods of ${MEMBERS}: each holds the neighbourhood document ` +
        `and the ${MEMBERS} member feeds of a generated board (100 posts with comments and status changes), syncs them, then adds a comment to its ` +
        `own feed every 10 s at a random phase. Latency is measured by a probe in a process of its own (bench/lib/latency-probe.ts): ` +
        `two pairs of clients with storage IDs, each changing a document of its own every 250 ms, timed to its arrival at the partner ` +
        `through the same server; the load's clients also time each change to each of the ${MEMBERS - 1} other members (an upper bound: ` +
        `the generator shares the 2 cores; both are reported). Steps of ${placetteSteps.join(', ')} clients; newcomers join three neighbourhoods at a time, each once the ` +
        `server has answered the previous one in its lane (so the ramp goes as fast as the server takes it, within a time budget: 0.3 s per newcomer, at least 60 s, at most 180 s); ` +
        `${windowMs / 1000} s are measured per step once the newcomers synced (at most ${settleMs / 1000} s more) and the latency over 5 s windows ` +
        `is within 200 ms or stops improving (at most ${warmMs / 1000} s more: the server may still be working off what the joins left); the ramp climbs while the probe's p95 stays within 200 ms and the generator fills the step; after the first step that fails either, it goes straight to ${target.toLocaleString('en')} clients (for RSS and CPU there) and stops. RSS (max over the window) and CPU (user+system ticks) read from ` +
        `/proc/<pid> of the server process. The Placette relay runs with its default admission (--busy-utilization 70, sync-server/admission.ts): ` +
        `saturated, or past the rate at which it takes newcomers, it turns a new socket away with close code 4503 and a delay, and the load's clients ` +
        `come back when told, as the app does (joins turned away are counted per step). Each client holds its own copy of the documents it writes (its feed; the first of each neighbourhood ` +
        `also the neighbourhood document) and follows the others without a copy: it answers each change the server sends as a device that applied ` +
        `it would (bench/lib/raw-peer.ts, \`follow\`), so the server does the same work while the generator does a fraction of it. All clients run ` +
        `in one generator process beside the server (its own event-loop delay and CPU are reported per step). Last, the same clients at a pace ` +
        `one core serves: ${SERVED_CLIENTS.toLocaleString('en')} clients each changing once a minute, measured over ${(windowMs * 3) / 1000} s, ` +
        `the relay started with --max-documents-in-memory ${SERVED_CAP.toLocaleString('en')} (its 2,100 documents are all in use; the default cap, 1,000, ` +
        `makes it evict and reload them without end), newcomers given up to 480 s to join.`,
      figures,
      notes,
      details,
    }
  },
}
