import { writeFileSync } from 'node:fs'
import { getHeapSpaceStatistics, writeHeapSnapshot, type HeapSpaceInfo } from 'node:v8'
import { Session } from 'node:inspector/promises'

/**
 * What every server child process shares: it starts its server, tells the bench its port over IPC,
 * answers `gc` and `memory` requests, and closes on `close` (or when the bench goes away).
 * Run with `node --import tsx --expose-gc bench/servers/<name>.ts '<options as JSON>'`.
 */

export interface ChildOptions {
  dataDir: string
  /** Folder of the built PWA (Placette relay only). */
  staticDir?: string
}

export type ToChild =
  | { type: 'gc' }
  | { type: 'memory' }
  | { type: 'close' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string }
  | { type: 'heap-snapshot'; file: string }
export type FromChild =
  | { type: 'ready'; port: number; versions: Record<string, string> }
  | { type: 'gc-done' }
  | { type: 'memory'; usage: NodeJS.MemoryUsage; spaces: HeapSpaceInfo[] }
  | { type: 'closed' }
  | { type: 'profile-started' }
  | { type: 'profile-written'; file: string }
  | { type: 'heap-snapshot-written'; file: string }
  | { type: 'failed'; message: string }

export interface Started {
  port: number
  close(): Promise<void>
  versions?: Record<string, string>
}

export function childOptions(): ChildOptions {
  return JSON.parse(process.argv[2] ?? '{}') as ChildOptions
}

export function serveChild(start: (options: ChildOptions) => Promise<Started>): void {
  const send = (message: FromChild) => process.send?.(message)
  // A bug in a server under test is a result, not a reason to leave a zombie behind.
  process.on('uncaughtException', (err) => {
    console.error('uncaught exception in server child:', err)
  })
  process.on('unhandledRejection', (err) => {
    console.error('unhandled rejection in server child:', err)
  })
  start(childOptions()).then(
    (server) => {
      let closing = false
      const close = async () => {
        if (closing) return
        closing = true
        const timer = setTimeout(() => process.exit(0), 10_000)
        await server.close().catch((err: unknown) => console.error('close failed:', err))
        clearTimeout(timer)
        send({ type: 'closed' })
        process.exit(0)
      }
      process.on('message', (message: ToChild) => {
        if (message.type === 'gc') {
          const gc = (globalThis as { gc?: () => void }).gc
          gc?.()
          gc?.()
          send({ type: 'gc-done' })
        } else if (message.type === 'memory') send({ type: 'memory', usage: process.memoryUsage(), spaces: getHeapSpaceStatistics() })
        else if (message.type === 'close') void close()
        else if (message.type === 'profile-start') void profileStart().then(() => send({ type: 'profile-started' }))
        else if (message.type === 'profile-stop') void profileStop(message.file).then(() => send({ type: 'profile-written', file: message.file }))
        else if (message.type === 'heap-snapshot') send({ type: 'heap-snapshot-written', file: writeHeapSnapshot(message.file) })
      })
      process.on('disconnect', () => void close())
      process.on('SIGTERM', () => void close())
      send({ type: 'ready', port: server.port, versions: server.versions ?? {} })
    },
    (err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
      process.exit(1)
    },
  )
}

// A CPU profile of a window of the run (e.g. only the catch-up), written as a .cpuprofile file.
let session: Session | undefined
async function profileStart(): Promise<void> {
  session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
async function profileStop(file: string): Promise<void> {
  if (!session) return
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(file, JSON.stringify(profile))
  session.disconnect()
  session = undefined
}
