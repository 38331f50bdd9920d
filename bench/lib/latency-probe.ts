/**
 * A latency probe for load tests, in a process of its own: a few clients that change a document of
 * theirs every 250 ms and time its arrival at their partner through the server under test.
 *
 * Why a separate process: on this 2-core machine the load generator (hundreds of clients, each with
 * its own copy of 21 documents, in one Node process) saturates its core well before the relay does,
 * and a change then waits in the *generator* before it is sent or read; timing it there measures the
 * generator. The probe does little, so what it measures is the server's delay (plus the machine being
 * shared, which the report says).
 *
 * Run by `startLatencyProbe` (fork + IPC); `node --import tsx bench/lib/latency-probe.ts <ws url>` as
 * a child.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import * as A from '@automerge/automerge'
import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo'
import { nextMessage } from './child-ipc.ts'
import { RawPeer } from './raw-peer.ts'

/** Pairs of probe clients; each client writes its own document every `EVERY_MS`. */
const PAIRS = 2
const EVERY_MS = 250
/** Sockets the probe holds open on the server under test. */
export const PROBE_SOCKETS = PAIRS * 2

type ToProbe = { type: 'reset' } | { type: 'collect' }
type FromProbe = { type: 'ready' } | { type: 'samples'; values: number[]; cut: number } | { type: 'failed'; message: string }

export interface LatencyProbe {
  /** Forgets the samples so far. */
  reset(): void
  /** The delivery latencies (ms) since the last reset, and how many probe pairs lost their socket. */
  collect(): Promise<{ values: number[]; cut: number }>
  stop(): void
}

export async function startLatencyProbe(wsUrl: string, timeoutMs = 60_000): Promise<LatencyProbe> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [wsUrl], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = <T extends FromProbe['type']>(type: T, ms: number) => nextMessage<FromProbe, T>(child, type, ms, 'latency probe')
  const send = (m: ToProbe) => child.send(m)
  try {
    await next('ready', timeoutMs)
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  return {
    reset: () => send({ type: 'reset' }),
    collect: async () => {
      const answer = next('samples', 30_000)
      send({ type: 'collect' })
      const { values, cut } = await answer
      return { values, cut }
    },
    stop: () => void child.kill('SIGKILL'),
  }
}

/**
 * The child: PAIRS pairs of clients, with storage IDs as app devices have. A pair whose socket the
 * server closes (a relay shedding load cuts sockets) is replaced by a new one after a second, and
 * counted: a probe that went quiet must not read as "no delay".
 */
async function probeMain(url: string): Promise<void> {
  const reply = (m: FromProbe) => process.send?.(m)
  // The bench going away takes the probe with it.
  process.on('disconnect', () => process.exit(0))
  const sentAt = new Map<string, number>()
  let samples: number[] = []
  let cut = 0

  const startPair = async (p: number): Promise<void> => {
    const docs = [0, 1].map(() => parseAutomergeUrl(generateAutomergeUrl()).documentId as string)
    const base = docs.map(() => A.from({ comments: {} as Record<string, unknown> }))
    const timers: ReturnType<typeof setInterval>[] = []
    let gone = false
    const peers: RawPeer[] = [0, 1].map(
      (i) =>
        new RawPeer({
          url,
          peerId: `bench-probe-${p}-${i}-${randomBytes(3).toString('hex')}`,
          storageId: randomBytes(16).toString('hex'),
          onChanges: (_doc, heads, now) => {
            for (const h of heads) {
              const at = sentAt.get(h)
              if (at === undefined) continue
              samples.push(now - at)
              sentAt.delete(h)
            }
          },
          onClose: () => {
            if (gone) return
            gone = true
            cut++
            for (const t of timers) clearInterval(t)
            for (const peer of peers) peer.terminate()
            setTimeout(() => void startPair(p).catch(() => undefined), 1000)
          },
        }),
    )
    for (const peer of peers) await peer.connect()
    for (const peer of peers) docs.forEach((id, i) => peer.add(id, { doc: A.clone(base[i] as A.Doc<unknown>) }))
    let k = 0
    peers.forEach((peer, i) => {
      timers.push(
        setInterval(() => {
          const heads = peer.change(docs[i] as string, (d) => {
            const doc = d as { comments: Record<string, unknown> }
            const id = `probe${p}x${i}x${k++}`
            doc.comments[id] = { id, body: new A.ImmutableString('Je passe vers 18 h.'), createdAt: Date.now() }
          })
          const now = performance.now()
          for (const h of heads) sentAt.set(h, now)
        }, EVERY_MS),
      )
    })
  }

  try {
    for (let p = 0; p < PAIRS; p++) await startPair(p)
  } catch (err) {
    reply({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
    return
  }
  process.on('message', (m: ToProbe) => {
    if (m.type === 'reset') {
      samples = []
      cut = 0
      sentAt.clear()
    } else if (m.type === 'collect') reply({ type: 'samples', values: samples, cut })
  })
  reply({ type: 'ready' })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) void probeMain(process.argv[2] as string)
