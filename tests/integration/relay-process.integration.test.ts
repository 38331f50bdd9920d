/**
 * The relay as systemd runs it: its own process, stopped with SIGTERM (sync-server/main.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { next as A } from '@automerge/automerge'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../shared/protocol.ts'
import { nodeClient } from '../helpers/node-client.ts'
import { rawSocket } from '../helpers/raw-socket.ts'
import { startRelayProcess } from '../helpers/relay-process.ts'
import { loadStoredDoc } from '../helpers/stored-doc.ts'
import { waitFor } from '../helpers/wait-for.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('the relay process', () => {
  it('on SIGTERM says goodbye to every socket with 1001, writes every document it holds, and exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'placette-sigterm-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const relay = await startRelayProcess({ dataDir, access: 'open' })
    cleanups.push(() => relay.kill('SIGKILL'))
    const url = `ws://127.0.0.1:${await relay.listening}/sync`
    const writer = nodeClient(url)
    const reader = nodeClient(url)
    cleanups.push(() => writer.close(), () => reader.close())
    const board = writer.repo.create<{ n: number }>({ n: 0 })
    const seen = await reader.findEventually<{ n: number }>(board.url)
    const watcher = await rawSocket(url)
    watcher.sendCbor({ type: 'join', senderId: 'watcher-1', peerMetadata: {}, supportedProtocolVersions: ['1'] })
    await watcher.next('peer')

    // A burst of changes, the last one seen through the relay, then at once the stop signal: whatever
    // the relay holds then must be on disk when it exits, written or not by its periodic saves.
    for (let n = 1; n <= 20; n++) board.change((d) => (d.n = n))
    await waitFor(() => seen.doc().n === 20, { message: 'the relay passes the last change on' })
    const exit = relay.kill('SIGTERM')
    expect((await watcher.closed).code).toBe(CloseCode.goingAway)
    expect(await exit).toEqual({ code: 0, signal: null })
    const stored = await loadStoredDoc<{ n: number }>(dataDir, board.documentId)
    expect(stored && A.hasHeads(stored, A.getHeads(board.doc()))).toBe(true)
    expect(relay.lines.some((l) => l.includes('"relay closed"'))).toBe(true)
  })
})
