/**
 * Proof that it converges: the seeded simulation of tests/sim/world.ts, over many seeds, on simulated
 * time, in worker threads (one per core, at most four).
 *
 *   SIM_SEEDS=5000 npx vitest run tests/sim      more seeds (default 1,000)
 *   SIM_FIRST=70001 …                           start elsewhere (default seed 1)
 *   SIM_SEED=1234 npx vitest run tests/sim      replay one seed, printing its trace
 *   SIM_WORKERS=1 …                             fewer threads
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { expect, it } from 'vitest'
import type { SeedReport } from './world.ts'
import type { WorkerReply, WorkerRequest } from './worker.ts'

const one = process.env.SIM_SEED ? Number(process.env.SIM_SEED) : undefined
const count = one !== undefined ? 1 : Number(process.env.SIM_SEEDS ?? 1000)
const first = one ?? Number(process.env.SIM_FIRST ?? 1)
const threads = Math.max(1, Math.min(count, Number(process.env.SIM_WORKERS ?? Math.min(availableParallelism(), 4))))
/** Stop handing out seeds after this many failures: enough to see a pattern, without waiting for all. */
const MAX_FAILURES = 5

/** A worker thread running worker.ts, through tsx's loader (worker threads do not take `--import`). */
function simWorker(): Worker {
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href
  const entry = new URL('./worker.ts', import.meta.url).href
  const boot = `const { register } = await import(${JSON.stringify(tsxApi)}); register(); await import(${JSON.stringify(entry)})`
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`))
}

interface Failure {
  seed: number
  message: string
  trace: string[]
}

it(`converges for ${count} seeds from ${first}`, { timeout: 30 * 60_000 }, async () => {
  const started = performance.now()
  const reports: SeedReport[] = []
  const failures: Failure[] = []
  let next = first
  const end = first + count

  const runWorker = () =>
    new Promise<void>((resolve, reject) => {
      const worker = simWorker()
      const handOut = () => {
        if (next >= end || failures.length >= MAX_FAILURES) {
          void worker.terminate().then(() => resolve())
          return
        }
        worker.postMessage({ seed: next++, trace: one !== undefined } satisfies WorkerRequest)
      }
      worker.on('message', (reply: WorkerReply) => {
        if ('line' in reply) {
          console.log(reply.line)
          return
        }
        if ('report' in reply) reports.push(reply.report)
        else {
          failures.push({ seed: reply.seed, ...reply.failure })
          console.error(`${reply.failure.message}\n  last steps:\n    ${reply.failure.trace.slice(-40).join('\n    ')}`)
        }
        handOut()
      })
      worker.on('error', reject)
      worker.on('online', handOut)
    })
  await Promise.all(Array.from({ length: threads }, runWorker))

  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const sum = (f: (r: SeedReport) => number) => reports.reduce((s, r) => s + f(r), 0)
  failures.sort((a, b) => a.seed - b.seed)
  console.log(
    `sim: ${reports.length + failures.length} seeds from ${first} in ${seconds} s on ${threads} threads, ${failures.length} failed` +
      (failures.length ? ` (seeds ${failures.map((f) => f.seed).join(', ')}; replay one with SIM_SEED=<seed>)` : '') +
      ` — ${sum((r) => r.commands)} commands, ${sum((r) => r.stops)} stops (${sum((r) => r.crashes)} crashes), ${sum((r) => r.cuts)} link cuts,` +
      ` ${sum((r) => r.messages.delivered)} messages delivered, ${sum((r) => r.messages.dropped)} dropped, ${sum((r) => r.messages.duplicated)} duplicated;` +
      ` ${sum((r) => r.messages.digests)} joins with heads digests, ${sum((r) => r.messages.sameBuckets)} digest buckets found the same, ${sum((r) => r.messages.caughtUp)} documents caught up by a bundle;` +
      ` ${reports.filter((r) => r.topology === 'chain').length} seeds with chained relays; ${sum((r) => r.lost)} feeds lost in crashes before their first save`,
  )
  expect(failures.map((f) => f.message)).toEqual([])
  expect(reports.length).toBe(count)
})
