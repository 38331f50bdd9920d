/**
 * `startRelayProcess()`: the relay as its own OS process (`sync-server/main.ts`), for tests that kill
 * it (SIGKILL, SIGTERM) or must see it survive: its exit, its RSS and its log lines are the process's
 * own. The entry point is bundled once per test run with esbuild (which tsx brings), because starting
 * through tsx's loader costs about twice as long and the crash test starts the relay hundreds of times.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait-for.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
/** Inside the repository, so the bundles' bare imports resolve to its node_modules. */
const OUT = join(ROOT, '.tmp', 'relay-process')
const ENTRIES = { main: 'sync-server/main.ts', standby: 'tests/helpers/relay-standby.ts' } as const

let bundled: Promise<boolean> | undefined

/** The node arguments that run an entry point: its bundle, or through tsx if esbuild is missing. */
async function entryArgs(entry: keyof typeof ENTRIES): Promise<string[]> {
  const ok = await (bundled ??= (async () => {
    try {
      const { build } = await import('esbuild')
      await mkdir(OUT, { recursive: true })
      const entryPoints = Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(ROOT, path)]))
      await build({ entryPoints, bundle: true, platform: 'node', format: 'esm', packages: 'external', outdir: OUT, outExtension: { '.js': '.mjs' }, logLevel: 'error' })
      return true
    } catch {
      return false
    }
  })())
  return ok ? [join(OUT, `${entry}.mjs`)] : ['--import', 'tsx', join(ROOT, ENTRIES[entry])]
}

export interface RelayProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Resolves with the port once the relay logs `relay listening`; rejects if it exits first. */
  readonly listening: Promise<number>
  /** Resolves with the exit code (or the signal that ended it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Every stdout line so far (JSON log lines). */
  readonly lines: string[]
  /** Resolves once the process is ready to start (at once unless started with `standby`). */
  readonly warm: Promise<void>
  /** Starts a standby relay (no-op otherwise). */
  go(): void
  /** Resident set size in bytes, from /proc (Linux); undefined once the process is gone. */
  rss(): Promise<number | undefined>
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface RelayProcessOptions {
  dataDir: string
  /** Default 0 (a free port): give the port of an earlier run to come back where clients look. */
  port?: number
  /** Default info: `listening` needs the `relay listening` line. */
  logLevel?: 'debug' | 'info'
  /** Extra flags, e.g. `['--max-frame-bytes', '65536']`. */
  args?: string[]
  /** `members` (as in production) or `open` for tests of the bare sync with clients that do not sign in. */
  access: 'members' | 'open'
  /** Load the code now, start the relay on `go()` (tests/helpers/relay-standby.ts). */
  standby?: boolean
}

export async function startRelayProcess(options: RelayProcessOptions): Promise<RelayProcess> {
  const args = [
    ...(await entryArgs(options.standby ? 'standby' : 'main')),
    '--port', String(options.port ?? 0),
    '--host', '127.0.0.1',
    '--data', options.dataDir,
    '--static', join(options.dataDir, 'no-static-folder'),
    '--log-level', options.logLevel ?? 'info',
    '--access', options.access,
    // No admission: the test's own clients share the machine's cores, and a fuzzer opens sockets by
    // the thousand; admission has tests of its own (sync-server/admission.test.ts, client-sync, e2e).
    '--busy-utilization', '0',
    ...(options.args ?? []),
  ]
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: [options.standby ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  let markWarm!: () => void
  const warm = new Promise<void>((res) => (markWarm = res))
  if (!options.standby) markWarm()
  const lines: string[] = []
  let partial = ''
  let resolvePort!: (port: number) => void
  let rejectPort!: (err: Error) => void
  const listening = new Promise<number>((res, rej) => {
    resolvePort = res
    rejectPort = rej
  })
  listening.catch(() => undefined)
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      if (line.includes('"relay listening"')) resolvePort((JSON.parse(line) as { port: number }).port)
      else if (line.includes('"standby warm"')) markWarm()
    }
  })
  child.stderr!.resume()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (code, signal) => {
      rejectPort(new Error(`relay exited (${code ?? signal}) before listening`))
      res({ code, signal })
    })
  })
  return {
    child,
    pid: child.pid!,
    listening,
    exited,
    lines,
    warm,
    go: () => {
      if (options.standby && child.stdin?.writable) child.stdin.end('go\n')
    },
    rss: async () => {
      try {
        const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
        const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
        return kb ? Number(kb) * 1024 : undefined
      } catch {
        return undefined
      }
    },
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

/** Waits until `relay` answers /healthz. */
export async function waitHealthy(port: number): Promise<void> {
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, { message: 'relay answers /healthz' })
}
