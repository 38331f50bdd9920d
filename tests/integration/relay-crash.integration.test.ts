/**
 * The relay killed with SIGKILL at random moments (issue 7). Fifty devices running the app's own sync
 * client (client/sync createClientSync, which counts a change as synced once the relay reports it on
 * disk) write to their documents through a relay process that is killed and restarted on the same
 * data folder, again and again. After every kill, before the restart, the data folder must hold every
 * change any device had been told was written, and every document must load. At the end, with the
 * relay left running, every change still only on its device must reach the relay.
 *
 * CRASH_KILLS (default 200), CRASH_CLIENTS (50) and CRASH_SEED (random, printed) replay or extend it.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { next as A } from '@automerge/automerge'
import type { DocHandle } from '@automerge/automerge-repo'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import { folderOf } from '../../sync-server/storage/file-layout.ts'
import { startRelayProcess, type RelayProcess } from '../helpers/relay-process.ts'
import { loadStoredDoc } from '../helpers/stored-doc.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { Rng } from '../sim/prng.ts'

const KILLS = Number(process.env.CRASH_KILLS ?? 200)
const CLIENTS = Number(process.env.CRASH_CLIENTS ?? 50)
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))

interface Note {
  n: number
  at: number
}

interface Device {
  sync: ClientSync
  handle: DocHandle<Note>
  /** Every head the relay reported written for this device's document. */
  told: Set<string>
  /** Head after each change, in order: its index + 1 is the number of changes up to it. */
  written: string[]
  timer?: ReturnType<typeof setTimeout>
}

const processes: RelayProcess[] = []
const devices: Device[] = []
let dataDir: string | undefined
afterAll(async () => {
  for (const d of devices) clearTimeout(d.timer)
  for (const p of processes) await p.kill('SIGKILL')
  for (const d of devices) await d.sync.repo.shutdown().catch(() => undefined)
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

/** Number of this device's changes up to the latest head the relay reported written. */
const acknowledged = (d: Device): number => {
  let count = 0
  for (let i = d.written.length - 1; i >= 0; i--)
    if (d.told.has(d.written[i]!)) {
      count = i + 1
      break
    }
  return count
}

describe('the relay killed at random moments', () => {
  it('never loses an acknowledged change, always loads every document, and takes the rest on reconnection', { timeout: 15 * 60_000 }, async () => {
    const rng = new Rng(SEED)
    console.log(`relay crash test: seed ${SEED} (CRASH_SEED=${SEED} to replay), ${KILLS} kills, ${CLIENTS} clients`)
    const started = performance.now()
    dataDir = await mkdtemp(join(tmpdir(), 'placette-crash-'))
    // The next relay is always loaded and waiting, so a restart is as quick as systemd's.
    const standby = async (port: number) => {
      const p = await startRelayProcess({ dataDir: dataDir!, port, standby: true, access: 'open' })
      processes.push(p)
      await p.warm
      return p
    }
    let relay = await standby(0)
    relay.go()
    const port = await relay.listening
    let next = standby(port)
    const url = `ws://127.0.0.1:${port}/sync`

    for (let i = 0; i < CLIENTS; i++) {
      const sync = createClientSync({ relayUrl: url, WebSocket: WebSocket as never })
      const handle = sync.repo.create<Note>({ n: 0, at: 0 })
      const device: Device = { sync, handle, told: new Set(), written: [A.getHeads(handle.doc())[0]!] }
      sync.relay.onPersistedHeads((documentId, heads) => {
        if (documentId === handle.documentId) for (const h of heads) device.told.add(h)
      })
      devices.push(device)
    }
    let writing = true
    const write = (d: Device) => {
      d.handle.change((doc) => {
        doc.n++
        doc.at = Date.now()
      })
      d.written.push(A.getHeads(d.handle.doc())[0]!)
      if (writing) d.timer = setTimeout(() => write(d), rng.int(500, 2500))
    }
    for (const d of devices) d.timer = setTimeout(() => write(d), rng.int(0, 500))

    const lost: string[] = []
    let killedBeforeListening = 0
    let killedWhileWriting = 0
    let ackedAtKills = 0
    let checkedDocuments = 0
    const verified = new Map<Device, { mtime: number; count: number }>()
    for (let kill = 0; kill < KILLS; kill++) {
      if (kill > 0) {
        relay = await next
        relay.go()
        next = standby(port)
      }
      let up = false
      relay.listening.then(() => (up = true), () => undefined)
      const toldBefore = devices.reduce((sum, d) => sum + d.told.size, 0)
      // Mostly while serving; sometimes while it starts (loading, cleaning up the last crash).
      if (rng.chance(0.15)) {
        await delay(rng.int(0, 300))
        if (!up) killedBeforeListening++
      } else {
        await relay.listening
        // The devices' backoff would otherwise outgrow the relay's short lives.
        for (const d of devices) d.sync.relay.reconnectNow()
        if (kill % 8 === 7) {
          // Now and then a longer life: kill while writes are being reported, not only while devices reconnect.
          const before = devices.reduce((sum, d) => sum + d.told.size, 0)
          await waitFor(() => devices.reduce((sum, d) => sum + d.told.size, 0) > before, { timeout: 5_000 }).catch(() => undefined)
          await delay(rng.int(0, 300))
        } else await delay(rng.int(0, 1000))
      }
      // What the devices were told before the kill is what must survive it.
      const mustHold = devices.map((d) => ({ d, heads: [...d.told], count: acknowledged(d) }))
      if (devices.reduce((sum, d) => sum + d.told.size, 0) > toldBefore) killedWhileWriting++
      if (process.env.CRASH_DEBUG) console.log(`kill ${kill}: listening ${up}, devices connected ${devices.filter((d) => d.sync.relay.connection.state === 'open').length}`)
      await relay.kill('SIGKILL')
      processes.splice(processes.indexOf(relay), 1)
      for (const { d, heads, count } of mustHold) {
        if (!heads.length) continue
        ackedAtKills += count
        // The relay only ever renames files into a document's folder or deletes them, so a folder whose
        // mtime has not moved since it was last found complete still is.
        const mtime = await folderMtime(dataDir, d.handle.documentId)
        const last = verified.get(d)
        if (last && last.mtime === mtime && last.count >= count) continue
        checkedDocuments++
        const stored = await loadStoredDoc(dataDir, d.handle.documentId)
        if (!stored || !A.hasHeads(stored, heads)) lost.push(`kill ${kill}: ${d.handle.documentId} lacks acknowledged changes (${count} acknowledged)`)
        else verified.set(d, { mtime, count })
      }
      expect(lost).toEqual([])
    }

    // The last start: the relay stays up; writing stops; everything still only on a device must arrive.
    writing = false
    for (const d of devices) clearTimeout(d.timer)
    relay = await next
    relay.go()
    await relay.listening
    const written = devices.reduce((sum, d) => sum + d.written.length - 1, 0)
    const unacknowledged = devices.reduce((sum, d) => sum + d.written.length - acknowledged(d), 0)
    for (const d of devices) d.sync.relay.reconnectNow()
    await waitFor(() => devices.every((d) => d.told.has(d.written.at(-1)!)), { timeout: 120_000, message: 'every device sees all its changes written' })
    for (const d of devices) {
      const stored = await loadStoredDoc<Note>(dataDir, d.handle.documentId)
      expect(stored && A.hasHeads(stored, [d.written.at(-1)!]), `${d.handle.documentId} is complete on disk`).toBe(true)
      expect(stored?.n).toBe(d.handle.doc().n)
    }
    // Atomic writes leave no torn file to skip, however the relay was killed.
    const skipped = processes.flatMap((p) => p.lines).filter((l) => l.includes('unreadable storage file'))
    expect(skipped).toEqual([])
    const stop = await relay.kill('SIGTERM')
    processes.splice(processes.indexOf(relay), 1)
    expect(stop.code).toBe(0)

    console.log(
      [
        `relay crash test (seed ${SEED}): ${KILLS} SIGKILLs (${killedBeforeListening} before the relay listened, ${killedWhileWriting} after it had reported writes), ${CLIENTS} clients`,
        `  changes written: ${written}; acknowledged changes that had to survive a kill: ${ackedAtKills} (${checkedDocuments} documents read back)`,
        `  lost: ${lost.length}; unacknowledged when writing stopped: ${unacknowledged}, all on the relay after reconnecting`,
        `  duration: ${((performance.now() - started) / 1000).toFixed(1)} s`,
      ].join('\n'),
    )
  })
})

async function folderMtime(dataDir: string, documentId: string): Promise<number> {
  const { shard, dir } = folderOf(documentId)
  return (await stat(join(dataDir, shard, dir)).catch(() => undefined))?.mtimeMs ?? -1
}

/** The random moment of a kill: a chosen delay, not a wait for some state. */
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
