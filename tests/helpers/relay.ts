/**
 * `startRelay()`: a real relay on a free port with its own temporary data folder and captured logs
 * (hocuspocus's `newHocuspocus` fixture). `stop()` closes it and deletes the folder it made.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_CONFIG, type RelayConfig } from '../../sync-server/config.ts'
import { createLogger, type LogLine } from '../../sync-server/log.ts'
import { createRelay, type Relay } from '../../sync-server/relay.ts'
import type { Admission } from '../../sync-server/admission.ts'

export interface StartRelayOptions {
  /** Reuse a data folder (it is then not deleted by `stop()`). Default: a fresh temporary folder. */
  dataDir?: string
  /** Folder of the PWA to serve. Default: a folder that does not exist. */
  staticDir?: string
  maxFrameBytes?: number
  /** Default 0 (a free port). Only to come back on a port a relay of this test just released. */
  port?: number
  /** Also print log lines (handy when debugging a test). */
  echoLogs?: boolean
  /** Upstream relays to peer with (`--upstream`), as sync URLs. */
  upstream?: string[]
  /** Retry delays towards the upstreams, in ms. Default: short ones, so tests do not wait. */
  upstreamBackoffMs?: readonly number[]
  /** `members` (the default, as in production) or `open` for tests of the bare sync with made-up documents. */
  access?: RelayConfig['access']
  /** Relay keys allowed to peer (`--trust-relay`). */
  trustRelays?: string[]
  /** `--evict-idle-ms` (default as in production). */
  evictIdleMs?: number
  /** `--max-documents-in-memory` (default as in production). */
  maxDocumentsInMemory?: number
  /**
   * Decides when the relay is saturated. Default: none, as with `--busy-utilization 0`: the test's own
   * clients share the relay's event loop here, and a busy test would have its sockets turned away.
   */
  admission?: Admission
}

export interface TestRelay {
  /** `http://127.0.0.1:<port>` */
  url: string
  /** `ws://127.0.0.1:<port>/sync` */
  wsUrl: string
  port: number
  dataDir: string
  relay: Relay
  /** Every log line the relay wrote, parsed; `restart()` keeps appending. */
  logs: LogLine[]
  /** Closes the relay and removes its temporary data folder. */
  stop(): Promise<void>
  /**
   * Closes the relay and starts a new one on the same data folder, on a new port (or the same one
   * with `samePort`, as a relay that other relays name by address): this handle's `url`, `wsUrl`,
   * `port` and `relay` then point to the new one (it is returned for convenience).
   */
  restart(options?: { samePort?: boolean }): Promise<TestRelay>
}

export async function startRelay(options: StartRelayOptions = {}): Promise<TestRelay> {
  const ownsDataDir = options.dataDir === undefined
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'placette-relay-')))
  const logs: LogLine[] = []
  const log = createLogger({
    level: 'debug',
    write: (line) => {
      logs.push(JSON.parse(line) as LogLine)
      if (options.echoLogs) console.log(line)
    },
  })
  const config: RelayConfig = {
    ...DEFAULT_CONFIG,
    port: options.port ?? 0,
    host: '127.0.0.1',
    dataDir,
    staticDir: options.staticDir ?? join(dataDir, 'no-static-folder'),
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_CONFIG.maxFrameBytes,
    upstreams: options.upstream ?? [],
    access: options.access ?? 'members',
    trustRelays: options.trustRelays ?? [],
    evictIdleMs: options.evictIdleMs ?? DEFAULT_CONFIG.evictIdleMs,
    maxDocumentsInMemory: options.maxDocumentsInMemory ?? DEFAULT_CONFIG.maxDocumentsInMemory,
    busyUtilization: 0,
  }

  const launch = async (port = config.port): Promise<Relay> => {
    const relay = createRelay({ ...config, port }, { log, upstreamBackoffMs: options.upstreamBackoffMs ?? [50, 100, 200, 400], admission: options.admission })
    await relay.ready
    return relay
  }
  const first = await launch()
  const handle: TestRelay = {
    ...first.address(),
    dataDir,
    relay: first,
    logs,
    stop: async () => {
      await handle.relay.close()
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true })
    },
    restart: async ({ samePort = false } = {}) => {
      await handle.relay.close()
      const relay = await launch(samePort ? handle.port : config.port)
      const { url, wsUrl, port } = relay.address()
      Object.assign(handle, { relay, url, wsUrl, port })
      return handle
    },
  }
  return handle
}
