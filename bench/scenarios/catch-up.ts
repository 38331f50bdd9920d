/**
 * Catch-up: a device holds 90 % of a board and reconnects; it must receive the last 10 % of the posts
 * plus 200 edits (comments, status changes). Measured: bytes that cross the wire both ways (a TCP
 * proxy counts them, WebSocket framing and compression included) and request/response exchanges,
 * against the limit: the gzip size of the new content as JSON.
 */
import { boardOptions, buildAutomerge, buildYjs, describe, generateBoard, limitBytes, yHasState, type AmDocs, type Board, type YjsDocs } from '../generate.ts'
import { cached } from '../lib/cache.ts'
import { deflateRawSync } from 'node:zlib'
import { amDevice, roundTrips, whenAllHeads, yDevice, type AmSystem, type Logged, type System } from '../lib/devices.ts'
import { MemoryStorage } from '../lib/memory-storage.ts'
import { startProxy } from '../lib/proxy.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { startServer } from '../lib/server-process.ts'
import { summarize } from '../lib/stats.ts'
import { sleep, waitUntil } from '../lib/wait.ts'

interface CatchUpRun {
  bytes: number
  down: number
  roundTrips: number
  ms: number
  messages: number
  /** Bytes of a second reconnect right after, when nothing is new. */
  idleBytes: number
  /** automerge-repo devices: what the catch-up's messages were made of (see `breakdown`). */
  parts?: Parts
}

/** Where a catch-up's bytes went, from the device's log of messages (before framing and compression). */
interface Parts {
  /** Sync messages that carried changes: how many, their bytes, the changes and the changes' bytes. */
  withChanges: { messages: number; bytes: number; changes: number; changeBytes: number }
  /** Sync messages with no change (heads, needs, Bloom filters): how many, bytes, of which Bloom filters. */
  withoutChanges: { messages: number; bytes: number; bloomBytes: number }
  /** Placette's persisted-heads messages. */
  persisted: { messages: number; bytes: number }
  /** Placette's catch-up bundles, in the relay's answer to the join: documents, bytes, of which Automerge changes. */
  bundles: { documents: number; bytes: number; changeBytes: number }
  /** Every change of the catch-up deflated as one stream (what compressing with context could reach at best). */
  changesDeflated: number
}

function breakdown(log: readonly Logged[]): Parts {
  const changeData = log.flatMap((m) => m.changeData ?? [])
  const parts: Parts = {
    withChanges: { messages: 0, bytes: 0, changes: 0, changeBytes: 0 },
    withoutChanges: { messages: 0, bytes: 0, bloomBytes: 0 },
    persisted: { messages: 0, bytes: 0 },
    bundles: { documents: 0, bytes: 0, changeBytes: 0 },
    changesDeflated: changeData.length ? deflateRawSync(Buffer.concat(changeData)).byteLength : 0,
  }
  for (const m of log) {
    if (m.type === 'placette-catch-up') {
      parts.bundles.documents++
      parts.bundles.bytes += m.bytes ?? 0
      parts.bundles.changeBytes += m.changeBytes ?? 0
    } else if (m.type === 'placette-persisted-heads') {
      parts.persisted.messages++
      parts.persisted.bytes += m.bytes ?? 0
    } else if (m.changes) {
      parts.withChanges.messages++
      parts.withChanges.bytes += m.bytes ?? 0
      parts.withChanges.changes += m.changes
      parts.withChanges.changeBytes += m.changeBytes ?? 0
    } else if (m.type === 'sync' || m.type === 'request') {
      parts.withoutChanges.messages++
      parts.withoutChanges.bytes += m.bytes ?? 0
      parts.withoutChanges.bloomBytes += m.bloomBytes ?? 0
    }
  }
  return parts
}

const ROOM = 'board'

/** Waits until the device has sent or received nothing for `quietMs` (the last acknowledgements). */
async function quiescence(log: { length: number }, quietMs = 400, maxMs = 10_000): Promise<void> {
  const deadline = performance.now() + maxMs
  let seen = log.length
  let since = performance.now()
  while (performance.now() < deadline) {
    await sleep(50)
    if (log.length !== seen) {
      seen = log.length
      since = performance.now()
    } else if (performance.now() - since >= quietMs) return
  }
}

export async function automergeCatchUp(system: AmSystem, docs: AmDocs): Promise<CatchUpRun> {
  const server = await startServer(system === 'placette' ? 'placette' : 'stock')
  const proxy = await startProxy(server.port)
  const device = amDevice(system, proxy.url(server.wsUrl), { storage: new MemoryStorage() })
  const cleanups: (() => Promise<unknown>)[] = [() => server.stop(), () => proxy.close(), () => device.close()]
  try {
    // The device has 90 % and has synced it with the server before.
    const handles = device.importDocs(docs.base)
    await waitUntil(() => [...handles.values()].every((h) => device.serverHas(h)), 'the server to hold the device’s documents', 180_000, 20)
    // It goes offline; meanwhile other devices bring the server the rest.
    device.setOnline(false)
    await proxy.cut()
    const writer = amDevice(system, server.wsUrl)
    cleanups.push(() => writer.close())
    const written = writer.importDocs(docs.full)
    await waitUntil(() => [...written.values()].every((h) => writer.serverHas(h)), 'the server to receive the new content', 180_000, 20)
    await writer.close()
    await sleep(200)

    device.log.length = 0
    const before = proxy.count()
    const start = performance.now()
    await proxy.restore()
    device.setOnline(true)
    await whenAllHeads(handles, docs.fullHeads, 120_000)
    const ms = performance.now() - start
    await quiescence(device.log)
    const after = proxy.count()
    const messages = device.log.filter((m) => m.type !== 'placette-persisted-heads' && m.type !== 'placette-catch-up').length
    const rt = roundTrips(device.log, true)
    const parts = breakdown(device.log)
    // Once more with nothing new: what a reconnect costs by itself.
    device.setOnline(false)
    await proxy.cut()
    await sleep(300)
    const idle0 = proxy.count()
    await proxy.restore()
    device.setOnline(true)
    await waitUntil(() => proxy.count().connections > idle0.connections, 'the device to reconnect', 30_000, 10)
    await sleep(300)
    await quiescence(device.log)
    const idle1 = proxy.count()
    return {
      bytes: after.up - before.up + after.down - before.down,
      down: after.down - before.down,
      roundTrips: rt,
      ms,
      messages,
      idleBytes: idle1.up - idle0.up + idle1.down - idle0.down,
      parts,
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
  }
}

async function yjsCatchUp(docs: YjsDocs): Promise<CatchUpRun> {
  const server = await startServer('yjs')
  const proxy = await startProxy(server.port)
  const device = yDevice(proxy.url(server.wsUrl), ROOM, docs.base)
  let writer: ReturnType<typeof yDevice> | undefined
  try {
    await waitUntil(() => device.provider.synced, 'the Yjs device to sync its 90 %', 120_000, 20)
    await sleep(200)
    await proxy.cut()
    writer = yDevice(server.wsUrl, ROOM, docs.full)
    await waitUntil(() => writer?.provider.synced, 'the Yjs server to receive the new content', 120_000, 20)
    await sleep(300)
    device.log.length = 0
    const before = proxy.count()
    const start = performance.now()
    await proxy.restore()
    await waitUntil(() => yHasState(device.doc, docs.fullStateVector), 'the Yjs device to catch up', 120_000, 2)
    const ms = performance.now() - start
    await quiescence(device.log)
    const after = proxy.count()
    const messages = device.log.length
    const rt = roundTrips(device.log, false)
    await proxy.cut()
    await sleep(300)
    const idle0 = proxy.count()
    await proxy.restore()
    await waitUntil(() => proxy.count().connections > idle0.connections, 'the Yjs device to reconnect', 30_000, 10)
    await sleep(300)
    await quiescence(device.log)
    const idle1 = proxy.count()
    return {
      bytes: after.up - before.up + after.down - before.down,
      down: after.down - before.down,
      roundTrips: rt,
      ms,
      messages,
      idleBytes: idle1.up - idle0.up + idle1.down - idle0.down,
    }
  } finally {
    device.close()
    writer?.close()
    await proxy.close()
    await server.stop()
  }
}

const SYSTEMS: System[] = ['placette', 'stock', 'yjs']

export const catchUp: Scenario = {
  id: 'catch-up',
  title: 'Catch-up after being away',
  goal: '≤ 1.3× the limit (gzip of the new content as JSON)',
  async run(ctx: RunContext) {
    const sizes = ctx.quick ? [100] : [1000, 10000]
    const runs = ctx.quick ? 1 : 3
    const figures: Figure[] = []
    const boards: string[] = []
    const notes: string[] = []
    const rows: string[] = []
    let lastSize: { med: (s: System, f: (r: CatchUpRun) => number) => number; docCount: number } | undefined
    for (const posts of sizes) {
      // --quick: a small neighbourhood, to exercise the path in seconds.
    const options = boardOptions(`catch-up-${posts}`, posts, ctx.quick ? { members: 20 } : {})
      const board: Board = generateBoard(options)
      ctx.log(`catch-up: building the ${posts}-post board (cached after the first time)`)
      const am = cached('catch-up-automerge', options, () => buildAutomerge(board))
      const y = cached('catch-up-yjs', options, () => buildYjs(board))
      const limit = limitBytes(board)
      boards.push(`- ${posts.toLocaleString('en')} posts: ${describe(board)}; limit ${limit.toLocaleString('en')} B`)
      const results: Record<System, CatchUpRun[]> = { placette: [], stock: [], yjs: [] }
      for (let run = 0; run < runs; run++) {
        for (const system of SYSTEMS) {
          ctx.log(`catch-up: ${posts} posts, ${system}, run ${run + 1}/${runs}`)
          results[system].push(system === 'yjs' ? await yjsCatchUp(y) : await automergeCatchUp(system, am))
        }
      }
      const per = (f: (r: CatchUpRun) => number) => Object.fromEntries(SYSTEMS.map((s) => [s, results[s].map(f)]))
      const n = posts.toLocaleString('en')
      figures.push(
        { measure: `bytes on the wire ÷ limit, ${n} posts`, unit: '×', values: per((r) => r.bytes / limit), goal: { max: 1.3, text: '≤ 1.3×' }, digits: 2 },
        { measure: `bytes on the wire, ${n} posts`, unit: 'KB', values: per((r) => r.bytes / 1000), digits: 1 },
        { measure: `round trips after the socket opens, ${n} posts`, unit: 'RT', values: per((r) => r.roundTrips), digits: 0 },
        { measure: `time to catch up on loopback, ${n} posts`, unit: 'ms', values: per((r) => r.ms) },
        { measure: `reconnect with nothing new, ${n} posts (DESIGN §2: < 1 KB)`, unit: 'KB', values: per((r) => r.idleBytes / 1000), goal: { max: 1, text: '< 1 KB' }, digits: 1 },
      )
      const med = (s: System, f: (r: CatchUpRun) => number) => summarize(results[s].map(f)).median
      const docCount = am.full.size
      lastSize = { med, docCount }
      const kb = (b: number) => `${(b / 1000).toFixed(1)} KB`
      const idle = med('placette', (r) => r.idleBytes)
      notes.push(
        `${n} posts: Placette sends ${med('placette', (r) => r.bytes / limit).toFixed(1)}× the limit (stock ${med('stock', (r) => r.bytes / limit).toFixed(1)}×, ` +
          `Yjs ${med('yjs', (r) => r.bytes / limit).toFixed(1)}×). A reconnect with nothing new costs ${kb(idle)} for its ${docCount} documents ` +
          `(stock ${kb(med('stock', (r) => r.idleBytes))}, ${(med('stock', (r) => r.idleBytes) / docCount).toFixed(0)} B per document; Yjs ` +
          `${kb(med('yjs', (r) => r.idleBytes))}): the heads digest of DESIGN.md §2 rides on the join and its answer, and only the documents ` +
          `that differ run a sync exchange; what is left is the WebSocket upgrade, the join and the relay's answer.`,
      )
      const parts = results.placette[results.placette.length - 1]?.parts
      const last = results.placette[results.placette.length - 1]
      if (parts && last) {
        const { withChanges: w, withoutChanges: o, persisted: p, bundles: b } = parts
        const carried = w.bytes + o.bytes + p.bytes + b.bytes
        notes.push(
          `${n} posts, where Placette's bytes go (last run; message sizes before WebSocket framing and compression): ` +
            `the relay's answer to the join carried catch-up bundles for ${b.documents} documents, ${kb(b.changeBytes)} of Automerge changes ` +
            `(A.saveSince; ${(b.changeBytes / limit).toFixed(1)}× the limit) in ${kb(b.bytes)}; ` +
            `${w.messages} sync messages carried ${w.changes} changes (${kb(w.changeBytes)}) in ${kb(w.bytes)}; ` +
            `${o.messages} sync messages without changes (heads, needs, Bloom filters: ${kb(o.bloomBytes)} of filters) ${kb(o.bytes)}; ` +
            `${p.messages} persisted-heads messages ${kb(p.bytes)}. That is ${kb(carried)} for ${kb(last.bytes)} on the wire ` +
            `(permessage-deflate, WebSocket framing, the upgrade, the join and the rest of its answer). Every change of the catch-up deflated as one ` +
            `stream is ${kb(parts.changesDeflated)} (${(parts.changesDeflated / limit).toFixed(1)}× the limit): the floor of Automerge's change ` +
            `encoding however it is framed. Each change carries its dependencies' 32-byte hashes, a checksum, its actor ID and its column ` +
            `headers, which compress little; the limit is a handful of bytes per comment or status change. bench/README.md, "What changed the figures", ` +
            `says what is left and what would go lower.`,
        )
      }
      for (const s of SYSTEMS) {
        const last = results[s][results[s].length - 1]
        if (last) rows.push(`| ${n} | ${s} | ${last.messages} | ${(last.down / 1000).toFixed(1)} | ${((last.bytes - last.down) / 1000).toFixed(1)} |`)
      }
    }
    if (lastSize) {
      const { med, docCount } = lastSize
      const perDoc = (sys: System) => med(sys, (r) => r.messages) / docCount
      if (perDoc('placette') > 1.5 * perDoc('stock'))
        notes.push(
          `The Placette relay takes ${perDoc('placette').toFixed(1)} sync messages per document on this reconnect where the stock server takes ` +
            `${perDoc('stock').toFixed(1)} (${med('placette', (r) => r.roundTrips)} round trips instead of ${med('stock', (r) => r.roundTrips)}). A cross test ` +
            `(the stock client on the Placette relay, the Placette client on the stock server) puts the difference on the relay. Likely cause: ` +
            `the relay announces to a returning peer every document that peer asked about before (RelaySharing in sync-server/peering.ts), ` +
            `so each document gets a sync started by the relay as well as the device's own, then one more message a few hundred ms later.`,
        )
    }
    notes.push(
      'The stock client only reconnects on its 5 s timer, so its "time to catch up" is mostly waiting; bytes and round trips do not depend on it.',
    )
    return {
      method:
        'A device imports 90 % of a board (the neighbourhood document and 200 member feeds, or one Y.Doc for Yjs), ' +
        'syncs it with the server through a loopback TCP proxy, then the proxy cuts the network. Another device brings the server ' +
        'the last 10 % of the posts plus 200 comments and status changes. The network comes back (the Placette client also gets ' +
        '`online`) and the proxy counts every byte both ways until the device has every new head and the exchange has been quiet ' +
        'for 400 ms. The device keeps its documents and sync states in a memory storage, as the app does in IndexedDB. ' +
        'Round trips: per document, the runs of messages the device sent that the server answered; the largest over documents, ' +
        'plus the join/peer handshake on automerge-repo.\n\n' +
        boards.join('\n'),
      figures,
      notes,
      details: ['Last run, by direction:', '', '| posts | system | sync messages | KB down | KB up |', '|---|---|---|---|---|', ...rows].join('\n'),
    }
  },
}
