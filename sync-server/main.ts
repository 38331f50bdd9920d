/** The relay's entry point: `npm run relay -- --port 3000` (options in sync-server/README.md). */
import { networkInterfaces } from 'node:os'
import { parseConfig, USAGE, wantsHelp } from './config.ts'
import { routeLibraryOutput } from './library-output.ts'
import { createLogger } from './log.ts'
import { createRejectionHandler } from './rejections.ts'
import { createRelay } from './relay.ts'

const args = process.argv.slice(2)
if (wantsHelp(args)) {
  console.log(USAGE)
  process.exit(0)
}
let config
try {
  config = parseConfig(args, process.env)
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}
const log = createLogger({ level: config.logLevel })
// A bug in a dependency must be logged, not take every neighbourhood offline; systemd restarts us on a crash.
process.on('unhandledRejection', createRejectionHandler(log))
// automerge-repo reports with console.log: into the JSON log, summed up (library-output.ts).
routeLibraryOutput(log)

const relay = createRelay(config, { log })
relay.ready.then(
  () => {
    // One plain line for the person who typed `npm start` (logs stay JSON on stdout).
    const { url, port } = relay.address()
    const lan = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => `http://${i!.address}:${port}`)
    const onLan = config.host === '0.0.0.0' && lan.length ? ` — on this network: ${lan.join(', ')}` : ''
    console.error(`Placette is running: open ${url}${onLan}`)
  },
  (err: unknown) => {
    log.error('relay failed to start', { err })
    process.exit(1)
  },
)
// `on`, not `once`: a supervisor may signal the whole process group (tsx relays it too), and a second
// signal must not kill the relay while it is still writing documents. (With `once`, runs under
// `node --import tsx` were seen exiting 143 before close() ran: tsx exits when it counts no listener.)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log.info('signal received', { signal })
    void relay.close().then(() => process.exit(0))
  })
}
