/**
 * A relay process kept warm: loads the relay's code (Automerge's wasm, automerge-repo, ws), prints
 * `{"msg":"standby warm"}`, and runs the real entry point, sync-server/main.ts, with this process's
 * arguments once it reads a line on stdin. The crash test starts the next relay this way the moment
 * it has killed the last one, as systemd would restart it, without paying Node's start-up each time.
 */
import { createInterface } from 'node:readline'
import '../../sync-server/relay.ts'

console.log(JSON.stringify({ msg: 'standby warm' }))
const lines = createInterface({ input: process.stdin })
lines.once('line', () => {
  lines.close()
  void import('../../sync-server/main.ts')
})
