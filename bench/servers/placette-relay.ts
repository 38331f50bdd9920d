/** The Placette relay in its own process: `createRelay` with the bench's data folder, on a free loopback port. */
import { join } from 'node:path'
import { DEFAULT_CONFIG, parseConfig } from '../../sync-server/config.ts'
import { createRelay } from '../../sync-server/relay.ts'
import { serveChild } from './child.ts'

serveChild(async ({ dataDir, staticDir }) => {
  // Eviction of idle documents and admission as configured in production, or as a scenario sets them (environment).
  const { evictIdleMs, maxDocumentsInMemory, busyUtilization, logLevel } = parseConfig([], process.env)
  const relay = createRelay({
    ...DEFAULT_CONFIG,
    port: 0,
    host: '127.0.0.1',
    dataDir,
    staticDir: staticDir ?? join(dataDir, 'no-static-folder'),
    logLevel: process.env.PLACETTE_LOG_LEVEL ? logLevel : 'warn',
    // The bench's devices and peers do not sign in yet: the relay's gate (access/gate.ts) is left out
    // of these figures, and said so in BENCHMARKS.md.
    access: 'open',
    evictIdleMs,
    maxDocumentsInMemory,
    busyUtilization,
  })
  await relay.ready
  return { port: relay.address().port, close: () => relay.close() }
})
