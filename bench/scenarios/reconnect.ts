/**
 * Reconnect: the network goes away for a while (the proxy refuses connections and ends open ones; the
 * Placette device also gets `offline`), another device changes a document meanwhile, then the network
 * comes back (`online`). Measured: from the network coming back to the device holding the change.
 */
import * as A from '@automerge/automerge'
import type { DocHandle } from '@automerge/automerge-repo'
import { boardOptions, buildAutomerge, buildYjs, generateBoard, idOf, Rng, type Board, type AmDocs, type YjsDocs } from '../generate.ts'
import { cached } from '../lib/cache.ts'
import { amDevice, yDevice, type AmSystem, type System } from '../lib/devices.ts'
import { MemoryStorage } from '../lib/memory-storage.ts'
import { startProxy, type Proxy } from '../lib/proxy.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { startServer, type ServerChild } from '../lib/server-process.ts'
import { sleep, waitUntil } from '../lib/wait.ts'

/** One device behind the proxy and one writer connected straight to the server. */
interface Setup {
  /** Changes document content on the writer; `seen()` is true once the device has it. */
  write(i: number): void
  seen(i: number): boolean
  offline(): void
  online(): void
  close(): Promise<void>
}

type Comments = { comments?: Record<string, unknown> }

async function automergeSetup(system: AmSystem, server: ServerChild, proxy: Proxy, board: Board, docs: AmDocs): Promise<Setup> {
  const device = amDevice(system, proxy.url(server.wsUrl), { storage: new MemoryStorage() })
  const writer = amDevice(system, server.wsUrl, { storage: new MemoryStorage() })
  const hd = device.importDocs(docs.full)
  await waitUntil(() => [...hd.values()].every((h) => device.serverHas(h)), 'the device’s documents on the server', 120_000, 20)
  const hw = writer.importDocs(docs.full)
  await waitUntil(() => [...hw.values()].every((h) => writer.serverHas(h)), 'the writer’s documents on the server', 120_000, 20)
  const member = board.members[2] ?? board.members[0]
  if (!member) throw new Error('no members')
  const theirs = hw.get(idOf(member.feedUrl)) as DocHandle<Comments>
  const mine = hd.get(idOf(member.feedUrl)) as DocHandle<Comments>
  const key = (i: number) => `cReconnect${String(i).padStart(13, '0')}`
  return {
    write: (i) =>
      theirs.change((d) => {
        d.comments ??= {}
        d.comments[key(i)] = { id: key(i), body: new A.ImmutableString('De retour !'), createdAt: Date.now() }
      }),
    seen: (i) => !!mine.doc()?.comments?.[key(i)],
    offline: () => device.setOnline(false),
    online: () => device.setOnline(true),
    close: async () => {
      await device.close()
      await writer.close()
    },
  }
}

async function yjsSetup(server: ServerChild, proxy: Proxy, docs: YjsDocs): Promise<Setup> {
  const device = yDevice(proxy.url(server.wsUrl), 'board', docs.full)
  const writer = yDevice(server.wsUrl, 'board', docs.full)
  await waitUntil(() => device.provider.synced && writer.provider.synced, 'both Yjs devices to sync', 60_000, 20)
  const key = (i: number) => `cReconnect${String(i).padStart(13, '0')}`
  return {
    write: (i) => writer.doc.getMap('comments').set(key(i), { id: key(i), body: 'De retour !', createdAt: Date.now() }),
    seen: (i) => device.doc.getMap('comments').has(key(i)),
    offline: () => undefined,
    online: () => undefined,
    close: async () => {
      device.close()
      writer.close()
    },
  }
}

const SYSTEMS: System[] = ['placette', 'stock', 'yjs']

export const reconnect: Scenario = {
  id: 'reconnect',
  title: 'Reconnect: network back → first change received',
  goal: '≤ 0.5 s (stock client: 3–4.6 s)',
  async run(ctx: RunContext) {
    const posts = ctx.quick ? 300 : 1000
    const runs = ctx.quick ? 1 : 8
    // --quick: a small neighbourhood, to exercise the path in seconds.
    const options = boardOptions(`catch-up-${posts}`, posts, ctx.quick ? { members: 20 } : {})
    const board = generateBoard(options)
    const am = cached('catch-up-automerge', options, () => buildAutomerge(board))
    const y = cached('catch-up-yjs', options, () => buildYjs(board))
    const rng = new Rng('reconnect')
    const outages = Array.from({ length: runs }, () => (ctx.quick ? 500 : 1000 + rng.int(3000)))
    const results: Record<System, number[]> = { placette: [], stock: [], yjs: [] }
    for (const system of SYSTEMS) {
      const server = await startServer(system)
      const proxy = await startProxy(server.port)
      let setup: Setup | undefined
      try {
        ctx.log(`reconnect: ${system}: setting up the device and the writer`)
        setup = system === 'yjs' ? await yjsSetup(server, proxy, y) : await automergeSetup(system, server, proxy, board, am)
        for (let run = 0; run < runs; run++) {
          const outage = outages[run] as number
          ctx.log(`reconnect: ${system}: run ${run + 1}/${runs}, ${outage} ms offline`)
          setup.offline()
          await proxy.cut()
          await sleep(Math.min(200, outage / 2))
          setup.write(run)
          await sleep(outage - Math.min(200, outage / 2))
          const start = performance.now()
          await proxy.restore()
          setup.online()
          const s = setup
          await waitUntil(() => s.seen(run), 'the change made while offline', 30_000, 2)
          results[system].push(performance.now() - start)
          await sleep(300)
        }
      } finally {
        await setup?.close()
        await proxy.close()
        await server.stop()
      }
    }
    const figures: Figure[] = [
      {
        measure: 'network back → change received',
        unit: 'ms',
        values: results,
        goal: { max: 500, text: '≤ 500 ms' },
      },
    ]
    return {
      method:
        `A device holding the ${posts.toLocaleString('en')}-post board is connected to the server through a loopback TCP proxy; a writer ` +
        `is connected directly. The proxy cuts the network (open connections end, new ones are refused: ECONNREFUSED, as with no route); ` +
        `the Placette device also gets \`offline\`. While it is away the writer adds a comment; the network comes back after ` +
        `${ctx.quick ? '0.5 s' : '1–4 s (seeded, so the stock client’s fixed 5 s retry timer is met at different phases)'} ` +
        `and the Placette device gets \`online\`. Measured: from the proxy accepting again to the device holding the comment ` +
        `(reconnect, handshake and the sync of every document it holds). ${runs} outage(s) per system.`,
      figures,
      notes: [
        'The stock WebSocketClientAdapter retries on a fixed 5 s interval and ignores `online`; y-websocket backs off exponentially from 200 ms up to 2.5 s.',
      ],
    }
  },
}
