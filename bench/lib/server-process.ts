/**
 * Starts a server under test in its own Node process, so that its memory and CPU are its own: the
 * Placette relay, the stock automerge-repo sync server setup, or the y-websocket server. The bench
 * reads the child's RSS and CPU time from /proc, and asks it over IPC to collect garbage.
 */
import { fork, type ChildProcess } from 'node:child_process'
import type { HeapSpaceInfo } from 'node:v8'
import { appendFileSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FromChild, ToChild } from '../servers/child.ts'
import { nextMessage } from './child-ipc.ts'
import { relayHeapFlags } from '../../scripts/heap.mjs'

export type ServerKind = 'placette' | 'stock' | 'yjs'

const ENTRY: Record<ServerKind, string> = {
  placette: 'placette-relay.ts',
  stock: 'stock-sync-server.ts',
  yjs: 'yjs-server.ts',
}

export interface ServerChild {
  kind: ServerKind
  pid: number
  port: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Where a client connects: `/sync` on the Placette relay, the root on the others (Yjs adds the room). */
  wsUrl: string
  dataDir: string
  /** Resident set size now, in bytes (VmRSS). */
  rss(): number
  /** User + system CPU time so far, in seconds. */
  cpuSeconds(): number
  /** Runs the child's garbage collector twice. */
  gc(): Promise<void>
  /** The child's `process.memoryUsage()`, and V8's heap spaces (size and use of each). */
  memory(): Promise<NodeJS.MemoryUsage & { spaces: HeapSpaceInfo[] }>
  /** Starts a CPU profile of the child; `profileStop` writes it to `file` (a .cpuprofile for DevTools). */
  profileStart(): Promise<void>
  profileStop(file: string): Promise<void>
  /** Writes a V8 heap snapshot of the child to `file` (open it in Chrome DevTools' Memory tab). */
  heapSnapshot(file: string): Promise<void>
  /** Last lines the child wrote on stdout and stderr, for error reports. */
  output(): string
  stop(): Promise<void>
}

const CLK_TCK = 100

/** Children still running: killed if the bench exits without stopping them (Ctrl-C, a crash). */
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1]
  return kb ? Number(kb) * 1024 : NaN
}

/**
 * The child's resident memory by kind, from /proc/<pid>/smaps: WebAssembly memories (V8 reserves
 * 8 GiB or more of address space for each: the part in use, then an inaccessible guard region right
 * after it; so a mapping followed by a guard that large is one: Automerge's), other anonymous memory
 * (V8's heap, zlib, buffers, malloc) and files mapped (code).
 */
export function readMemoryParts(pid: number): { wasm: number; anonymous: number; files: number } {
  const maps: { start: number; end: number; noAccess: boolean; file: boolean; rss: number }[] = []
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$/.exec(line)
    if (header) maps.push({ start: parseInt(header[1] as string, 16), end: parseInt(header[2] as string, 16), noAccess: header[3] === '---p', file: header[4] !== '0' && (header[5] ?? '').startsWith('/'), rss: 0 })
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    const last = maps[maps.length - 1]
    if (rss && last) last.rss = Number(rss[1]) * 1024
  }
  const parts = { wasm: 0, anonymous: 0, files: 0 }
  maps.forEach((m, i) => {
    const next = maps[i + 1]
    if (next && next.noAccess && next.start === m.end && next.end - next.start >= 4 * 1024 ** 3) parts.wasm += m.rss
    else if (m.file) parts.files += m.rss
    else parts.anonymous += m.rss
  })
  return parts
}

export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK
}

export interface StartOptions {
  staticDir?: string
  /** Keep the data folder after stop (default: removed). */
  keepData?: boolean
  /** More environment variables for the server (e.g. the relay's `PLACETTE_EVICT_IDLE_MS`). */
  env?: Record<string, string>
}

export async function startServer(kind: ServerKind, options: StartOptions = {}): Promise<ServerChild> {
  const dataDir = await mkdtemp(join(tmpdir(), `placette-bench-${kind}-`))
  const entry = fileURLToPath(new URL(`../servers/${ENTRY[kind]}`, import.meta.url))
  const child: ChildProcess = fork(entry, [JSON.stringify({ dataDir, staticDir: options.staticDir })], {
    // BENCH_CPU_PROF=<folder> writes a V8 CPU profile of every server child there (open it in Chrome's DevTools).
    // The relay runs with the heap cap `npm start` gives it (scripts/heap.mjs), so what is measured is what runs;
    // BENCH_RELAY_NODE_FLAGS (space-separated) adds node or V8 flags to try on it, e.g. `--heap-growing-percent=300`.
    execArgv: [
      ...(kind === 'placette' ? [...relayHeapFlags({ ...process.env, ...options.env }), ...(process.env.BENCH_RELAY_NODE_FLAGS ?? '').split(' ').filter(Boolean)] : []),
      '--import',
      'tsx',
      '--expose-gc',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...options.env, NODE_ENV: 'production' },
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  })
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    // BENCH_SERVER_LOG=<file> keeps every server child's output there (with PLACETTE_LOG_LEVEL=debug the relay logs each socket's open and close).
    if (process.env.BENCH_SERVER_LOG) appendFileSync(process.env.BENCH_SERVER_LOG, chunk)
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(line.slice(0, 500))
    if (lines.length > 40) lines.splice(0, lines.length - 40)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  live.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  void exited.then(() => live.delete(child))

  const waitFor = <T extends FromChild['type']>(type: T, timeoutMs: number) =>
    nextMessage<FromChild, T>(child, type, timeoutMs, `${kind} server`, () => lines.join('\n'))

  const ready = await waitFor('ready', 30_000)
  const pid = child.pid as number
  const url = `http://127.0.0.1:${ready.port}`
  const request = (message: ToChild) => child.send(message)
  let stopped: Promise<void> | undefined
  return {
    kind,
    pid,
    port: ready.port,
    url,
    wsUrl: kind === 'placette' ? `ws://127.0.0.1:${ready.port}/sync` : `ws://127.0.0.1:${ready.port}`,
    dataDir,
    rss: () => readRss(pid),
    cpuSeconds: () => readCpuSeconds(pid),
    gc: async () => {
      const done = waitFor('gc-done', 30_000)
      request({ type: 'gc' })
      await done
    },
    memory: async () => {
      const answer = waitFor('memory', 10_000)
      request({ type: 'memory' })
      const { usage, spaces } = await answer
      return { ...usage, spaces }
    },
    profileStart: async () => {
      const started = waitFor('profile-started', 10_000)
      request({ type: 'profile-start' })
      await started
    },
    profileStop: async (file) => {
      const written = waitFor('profile-written', 30_000)
      request({ type: 'profile-stop', file })
      await written
    },
    heapSnapshot: async (file) => {
      const written = waitFor('heap-snapshot-written', 120_000)
      request({ type: 'heap-snapshot', file })
      await written
    },
    output: () => lines.join('\n'),
    stop: () =>
      (stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          request({ type: 'close' })
          const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
          await exited
          clearTimeout(killer)
        }
        if (!options.keepData) await rm(dataDir, { recursive: true, force: true })
      })()),
  }
}
