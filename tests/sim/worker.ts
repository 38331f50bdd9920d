/**
 * A worker thread that runs seeds of the convergence simulation on simulated time (clock.ts), one at
 * a time, for convergence.test.ts. Messages in: `{ seed, trace }`. Messages out: `{ seed, line }` while
 * tracing, then `{ seed, report }` or `{ seed, failure }`.
 */
import { parentPort } from 'node:worker_threads'
import { SimClock } from './clock.ts'

export type WorkerRequest = { seed: number; trace: boolean }
export type WorkerReply =
  | { seed: number; line: string }
  | { seed: number; report: import('./world.ts').SeedReport }
  | { seed: number; failure: { message: string; trace: string[] } }

const clock = new SimClock()
clock.install()
// Imported after the clock is installed, so nothing can capture the real timers first.
const { runSeed, SimFailure } = await import('./world.ts')
const port = parentPort as NonNullable<typeof parentPort>

port.on('message', (request: WorkerRequest) => {
  void run(request)
})

async function run({ seed, trace }: WorkerRequest): Promise<void> {
  const reply = (message: WorkerReply) => port.postMessage(message)
  try {
    const report = await runSeed(seed, clock, trace ? { trace: (line) => reply({ seed, line }) } : {})
    // A timer callback that threw would have been an uncaught exception in a real process.
    const thrown = clock.errors.splice(0)
    if (thrown.length) throw new Error(`a timer callback threw: ${thrown.map(String).join('; ').slice(0, 500)}`)
    reply({ seed, report })
  } catch (err) {
    const failure =
      err instanceof SimFailure
        ? { message: err.message, trace: [...err.trace] }
        : { message: `seed ${seed}: crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, trace: [] }
    reply({ seed, failure })
  } finally {
    // Whatever the finished seed left pending never runs.
    clock.reset()
  }
}
