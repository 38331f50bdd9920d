/**
 * `npm run bench`: runs every scenario, prints a table and writes BENCHMARKS.md.
 *
 *   npm run bench                        every scenario, full sizes (about an hour on 2 cores)
 *   npm run bench -- --quick             small sizes, every code path (CI); writes .tmp/BENCHMARKS.quick.md
 *   npm run bench -- --only relay-load   one scenario (or several, comma-separated); updates its section
 *   npm run bench -- --note "…"          says under the machine in what conditions the run was made
 *                                        (with --only, added to what the earlier runs said)
 *
 * Benchmarks are not tests: the exit code says whether every scenario ran, not whether goals were met.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeMachine } from './lib/machine.ts'
import { readEmbeddedResults, renderReport, terminalTable } from './lib/report.ts'
import { SCENARIO_IDS, type Scenario, type ScenarioId, type ScenarioResult } from './lib/scenario.ts'
import { catchUp } from './scenarios/catch-up.ts'
import { coldStart } from './scenarios/cold-start.ts'
import { firstVisit } from './scenarios/first-visit.ts'
import { latency } from './scenarios/latency.ts'
import { projection } from './scenarios/projection.ts'
import { reconnect } from './scenarios/reconnect.ts'
import { relayLoad } from './scenarios/relay-load.ts'
import { relayMemory } from './scenarios/relay-memory.ts'
import { search } from './scenarios/search.ts'
import { signatures } from './scenarios/signatures.ts'

const SCENARIOS: Record<ScenarioId, Scenario> = {
  'catch-up': catchUp,
  latency,
  reconnect,
  'cold-start': coldStart,
  search,
  projection,
  'first-visit': firstVisit,
  'relay-load': relayLoad,
  'relay-memory': relayMemory,
  signatures,
}

const USAGE = `Usage: npm run bench -- [--quick] [--only <scenario>[,<scenario>…]] [--note <text>]
Scenarios: ${SCENARIO_IDS.join(', ')}`

interface Args {
  quick: boolean
  only: ScenarioId[]
  note?: string
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, only: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`)
      return v
    }
    if (flag === '--quick') args.quick = true
    else if (flag === '--only') {
      for (const id of value().split(',')) {
        if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`unknown scenario "${id}"\n${USAGE}`)
        args.only.push(id as ScenarioId)
      }
    } else if (flag === '--note') args.note = value()
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE)
      process.exit(0)
    } else throw new Error(`unknown option "${arg}"\n${USAGE}`)
  }
  return args
}

async function main(): Promise<number> {
  let args: Args
  try {
    args = parseArgs(process.argv.slice(2))
  } catch (err) {
    console.error((err as Error).message)
    return 2
  }
  const root = fileURLToPath(new URL('..', import.meta.url))
  const started = performance.now()
  const stamp = () => `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s]`
  const log = (message: string) => console.error(`${stamp()} ${message}`)
  // Ctrl-C or a CI timeout: exit through 'exit' handlers, which stop the server processes.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130))
  // A client library throwing from a socket callback must not end the whole run; the scenario then fails on its own timeout.
  let stray = 0
  process.on('uncaughtException', (err) => {
    stray++
    log(`uncaught exception (run continues): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  })
  process.on('unhandledRejection', (err) => {
    stray++
    log(`unhandled rejection (run continues): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  })

  const ids = args.only.length ? SCENARIO_IDS.filter((id) => args.only.includes(id)) : [...SCENARIO_IDS]
  log(`running ${ids.join(', ')}${args.quick ? ' (--quick)' : ''}`)
  const results: ScenarioResult[] = []
  for (const id of ids) {
    const scenario = SCENARIOS[id]
    const t0 = performance.now()
    const at = new Date().toISOString()
    log(`${id}: start`)
    const base = { id, title: scenario.title, goal: scenario.goal, quick: args.quick, at }
    try {
      const outcome = await scenario.run({ quick: args.quick, log, root })
      results.push({ ...base, ...outcome, seconds: (performance.now() - t0) / 1000 })
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      log(`${id}: FAILED: ${message}`)
      results.push({ ...base, method: '', figures: [], notes: [], error: message, seconds: (performance.now() - t0) / 1000 })
    }
    log(`${id}: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  }

  const machine = await describeMachine(root)
  const target = args.quick ? join(root, '.tmp', 'BENCHMARKS.quick.md') : join(root, 'BENCHMARKS.md')
  let all = results
  let conditions = args.note
  if (!args.quick && args.only.length && existsSync(target)) {
    // One scenario rerun: keep the other sections of the last full run.
    const previous = readEmbeddedResults(readFileSync(target, 'utf8'))
    if (previous) {
      const fresh = new Map(results.map((r) => [r.id, r]))
      all = SCENARIO_IDS.map((id) => fresh.get(id) ?? previous.results.find((r) => r.id === id)).filter((r): r is ScenarioResult => !!r)
      // The note says how this rerun was made: it joins what the earlier runs said, never replaces it.
      conditions = [previous.conditions, args.note].filter(Boolean).join('; ') || undefined
    }
  }
  mkdirSync(join(root, '.tmp'), { recursive: true })
  writeFileSync(target, renderReport({ results: all, machine, quick: args.quick, conditions }))

  console.log(terminalTable(results))
  console.log(`\nWrote ${target.slice(root.length)} in ${((performance.now() - started) / 1000).toFixed(0)} s.`)
  const failed = results.filter((r) => r.error).map((r) => r.id)
  if (stray) log(`${stray} uncaught error(s) from client code during the run (see above)`)
  if (failed.length) {
    log(`failed: ${failed.join(', ')}`)
    return 1
  }
  return 0
}

// Exit explicitly: client libraries leave timers behind (y-websocket's, the stock adapter's retries).
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
