/**
 * Fuzzing a live relay process (issue 7): at least 100,000 frames of random bytes, mutated CBOR, valid
 * envelopes around mutated sync payloads, oversized frames, text frames and out-of-order joins
 * (messages before the join, a second join, another sender's ID), from several sockets at once, while
 * a well-behaved device (the app's own sync client) and a stock automerge-repo client keep syncing a
 * document next to them. The relay must not exit, must keep its memory bounded, and must close only
 * the offending socket, with one of its named close codes.
 *
 * Runs with FUZZ_SEED 1958724696 and 1246062501 once left the good clients' document stuck for good:
 * a mutated sync message with a Bloom filter Automerge takes and then panics on (shared/sync-payload.ts).
 * Every run now aims such frames at that document (the `poisonedBloom` offence).
 *
 * Each fuzzing socket follows a script drawn from its own seed, printed on failure: add it to
 * REGRESSION_SEEDS to replay it in every later run. FUZZ_FRAMES (default 100,000) and FUZZ_SEED
 * (random, printed) extend or replay a run.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { next as A } from '@automerge/automerge'
import { cbor, generateAutomergeUrl, parseAutomergeUrl, type DocHandle } from '@automerge/automerge-repo'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createClientSync, type ClientSync } from '../../client/sync/repo.ts'
import { CloseCode } from '../../shared/protocol.ts'
import { syncPayloadProblem } from '../../shared/sync-payload.ts'
import { nodeClient, type NodeClient } from '../helpers/node-client.ts'
import { startRelayProcess, type RelayProcess } from '../helpers/relay-process.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { Rng } from '../sim/prng.ts'

/**
 * Socket seeds that once failed; each is replayed first in every run.
 * 948763297: a first-frame join under another name was taken for an offence (a bug of this test).
 */
const REGRESSION_SEEDS: number[] = [948763297]

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 100_000)
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const SOCKETS_AT_ONCE = 6
/** Small, so oversized frames are cheap to send. */
const MAX_FRAME = 64 * 1024
/** The relay's named close codes, plus 1006 when it cuts a peer that does not finish the close handshake. */
const EXPECTED_CLOSES = new Set<number>([CloseCode.tooLarge, CloseCode.malformed, CloseCode.protocol, 1006])

interface Board {
  n: number
}

/** A few documents the fuzzers write to, so the relay's memory measures leaks, not new documents. */
const POOL = Array.from({ length: 12 }, () => parseAutomergeUrl(generateAutomergeUrl()).documentId as string)
/** Real sync messages to mutate: what devices with a few changes send. */
const SAMPLES: Uint8Array[] = (() => {
  const out: Uint8Array[] = []
  let doc = A.from<{ posts: string[] }>({ posts: [] })
  for (let i = 0; i < 6; i++) {
    doc = A.change(doc, (d) => void d.posts.push(`post ${i}`))
    const [, message] = A.generateSyncMessage(doc, A.initSyncState())
    if (message) out.push(message)
    const [, first] = A.generateSyncMessage(A.init(), A.initSyncState())
    if (first) out.push(first)
  }
  return out
})()

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const out = Array.from(bytes)
  const edits = rng.int(1, 4)
  for (let i = 0; i < edits; i++) {
    const at = rng.int(0, Math.max(0, out.length - 1))
    switch (rng.int(0, 3)) {
      case 0:
        out[at] = rng.int(0, 255)
        break
      case 1:
        out.splice(at, 0, rng.int(0, 255))
        break
      case 2:
        out.splice(at, rng.int(1, 8))
        break
      default:
        out[at] = (out[at] ?? 0) ^ (1 << rng.int(0, 7))
    }
  }
  return Uint8Array.from(out)
}

const randomBytes = (rng: Rng, max: number) => Uint8Array.from({ length: rng.int(0, max) }, () => rng.int(0, 255))

type Frame = { bytes: Uint8Array | string; binary: boolean }

/**
 * One socket's script: an optional join, then frames that a relay should take or drop without
 * closing, then (usually) one offence that should close the socket.
 */
function script(seed: number, relayPeerId: string, victim: string): { frames: Frame[]; offends: boolean | 'maybe'; offence?: string } {
  const rng = new Rng(seed)
  const me = rng.id('fuzz-', 10)
  const docId = () => (rng.chance(0.05) ? victim : rng.pick(POOL))
  const bin = (value: unknown): Frame => ({ bytes: cbor.encode(value), binary: true })
  const join = (senderId: string = me) => bin({ type: 'join', senderId, peerMetadata: rng.chance(0.5) ? { placetteFeatures: ['persisted-heads'] } : {}, supportedProtocolVersions: ['1'] })
  const sample = () => rng.pick(SAMPLES)
  const frames: Frame[] = []
  const joined = rng.chance(0.9)
  if (joined) frames.push(join())
  const tame = joined ? rng.int(20, 600) : 0
  for (let i = 0; i < tame; i++) {
    const kind = rng.weighted({ sync: 4, mutatedSync: 3, request: 2, otherTarget: 3, ephemeral: 1, unavailable: 1, joinAgain: 1, subscription: 1 })
    switch (kind) {
      case 'sync':
        frames.push(bin({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: docId(), data: sample() }))
        break
      case 'mutatedSync': {
        // Mutated until it still reads as a sync message the relay takes: it must then survive what
        // Automerge makes of it.
        let data = mutate(rng, sample())
        for (let tries = 0; tries < 20 && syncPayloadProblem({ type: 'sync', data }); tries++) data = mutate(rng, sample())
        // Otherwise the relay would close the socket: kept for the offences.
        if (!syncPayloadProblem({ type: 'sync', data })) frames.push(bin({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: docId(), data }))
        break
      }
      case 'request':
        frames.push(bin({ type: 'request', senderId: me, targetId: relayPeerId, documentId: docId(), data: sample() }))
        break
      case 'otherTarget':
        frames.push(bin({ type: 'sync', senderId: me, targetId: rng.id('relay-', 12), documentId: docId(), data: sample() }))
        break
      case 'ephemeral':
        // Presence as automerge-repo sends it: CBOR, whatever it says.
        frames.push(bin({ type: 'ephemeral', senderId: me, targetId: relayPeerId, documentId: rng.pick(POOL), count: rng.int(0, 1e6), sessionId: rng.id('s', 8), data: cbor.encode({ v: rng.int(0, 3), type: rng.id('t', 6), blob: randomBytes(rng, 64) }) }))
        break
      case 'unavailable':
        frames.push(bin({ type: 'doc-unavailable', senderId: me, targetId: relayPeerId, documentId: rng.pick(POOL) }))
        break
      case 'joinAgain':
        frames.push(join())
        break
      case 'subscription':
        frames.push(bin({ type: 'remote-subscription-change', senderId: me, targetId: relayPeerId, add: [rng.id('storage-', 8)], remove: [] }))
        break
    }
  }
  if (rng.chance(0.05)) return { frames, offends: false }
  const offence = rng.weighted({ randomBytes: 3, mutatedCbor: 4, badSyncPayload: 3, poisonedBloom: 1, badPresence: 1, oversized: 1, text: 1, otherSender: 2, joinAsOther: 1, beforeJoin: 2, badDocumentId: 1, unknownType: 1 })
  switch (offence) {
    case 'randomBytes':
      frames.push({ bytes: randomBytes(rng, 2000), binary: true })
      break
    case 'mutatedCbor': {
      const valid = cbor.encode({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: docId(), data: sample() })
      frames.push({ bytes: mutate(rng, valid), binary: true })
      return { frames, offends: 'maybe', offence }
    }
    case 'badSyncPayload':
      frames.push(bin({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: docId(), data: randomBytes(rng, 300) }))
      break
    case 'poisonedBloom': {
      // A sync message Automerge decodes, takes, then panics answering (shared/sync-payload.ts): it once
      // left the document it named stuck for everyone. Aimed at the good clients' document.
      const have = [{ lastSync: [], bloom: Uint8Array.from([rng.int(1, 100), 0, rng.int(1, 10)]) }]
      frames.push(bin({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: victim, data: A.encodeSyncMessage({ ...A.decodeSyncMessage(sample()), have }) }))
      break
    }
    case 'badPresence':
      // Not CBOR (0x1c is a reserved initial byte): automerge-repo threw on each, printing a dump.
      frames.push(bin({ type: 'ephemeral', senderId: me, targetId: relayPeerId, documentId: rng.pick(POOL), count: rng.int(0, 1e6), sessionId: rng.id('s', 8), data: Uint8Array.from([0x1c, ...randomBytes(rng, 64)]) }))
      break
    case 'oversized':
      frames.push({ bytes: new Uint8Array(MAX_FRAME + rng.int(1, 4096)), binary: true })
      break
    case 'text':
      frames.push({ bytes: JSON.stringify({ type: 'join', senderId: me }), binary: false })
      break
    case 'otherSender':
      frames.push(bin({ type: 'sync', senderId: rng.id('device-', 10), targetId: relayPeerId, documentId: docId(), data: sample() }))
      break
    case 'joinAsOther':
      // Only an offence on a joined socket; as a first frame it is a join like any other.
      if (joined) frames.push(join(rng.id('device-', 10)))
      else frames.push(bin({ type: 'request', senderId: me, targetId: relayPeerId, documentId: docId(), data: sample() }))
      break
    case 'beforeJoin':
      // On a joined socket, a message from the peer it did not join as is the same offence.
      frames.push(bin({ type: 'sync', senderId: joined ? rng.id('device-', 10) : me, targetId: relayPeerId, documentId: docId(), data: sample() }))
      break
    case 'badDocumentId':
      frames.push(bin({ type: 'sync', senderId: me, targetId: relayPeerId, documentId: rng.id('', 28), data: sample() }))
      break
    case 'unknownType':
      frames.push(bin({ type: rng.id('t', 6), senderId: me, targetId: relayPeerId }))
      break
  }
  return { frames, offends: true, offence }
}

interface SocketResult {
  seed: number
  sent: number
  /** `maybe`: a mutated frame that may still be a valid message. */
  offends: boolean | 'maybe'
  offence?: string
  close?: number
}

/** Plays one script on a fresh socket; resolves once the relay closed it (or, if it should not, once it was heard). */
async function play(url: string, seed: number, relayPeerId: string, victim: string): Promise<SocketResult> {
  const { frames, offends, offence } = script(seed, relayPeerId, victim)
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 })
  ws.on('error', () => undefined)
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  const opened = await new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true))
    ws.once('close', () => resolve(false))
  })
  const result: SocketResult = { seed, sent: 0, offends, offence }
  if (!opened) return { ...result, close: -1 }
  for (const frame of frames) {
    if (ws.readyState !== WebSocket.OPEN) break
    ws.send(frame.bytes, { binary: frame.binary })
    result.sent++
    // Let the relay's answers in now and then, and do not queue more than ws would buffer sensibly.
    if (result.sent % 64 === 0 || ws.bufferedAmount > 1 << 20) await new Promise((resolve) => setImmediate(resolve))
  }
  // The relay reads a socket's frames in order: once it answers a ping sent after them, it has read
  // them all, and a socket it meant to close is closed instead of answering.
  const answered = await new Promise<boolean>((resolve) => {
    if (ws.readyState !== WebSocket.OPEN) return resolve(false)
    ws.once('pong', () => resolve(true))
    ws.once('close', () => resolve(false))
    ws.ping()
  })
  if (!answered) result.close = await closed
  else ws.terminate()
  return result
}

const cleanups: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('the relay under fuzzing', () => {
  it('never exits, keeps its memory bounded, closes only the offending socket, and keeps syncing its good clients', { timeout: 10 * 60_000 }, async () => {
    console.log(`relay fuzz: seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${FRAMES} frames, regression seeds ${JSON.stringify(REGRESSION_SEEDS)}`)
    const started = performance.now()
    const dataDir = await mkdtemp(join(tmpdir(), 'placette-fuzz-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const relay: RelayProcess = await startRelayProcess({ dataDir, access: 'open', args: ['--max-frame-bytes', String(MAX_FRAME)] })
    cleanups.push(() => relay.kill('SIGKILL'))
    const port = await relay.listening
    const url = `ws://127.0.0.1:${port}/sync`
    const relayPeerId = (JSON.parse(relay.lines.find((l) => l.includes('"relay listening"'))!) as { peerId: string }).peerId

    // The good neighbours: the app's client writes, a stock client reads.
    const device: ClientSync = createClientSync({ relayUrl: url, WebSocket: WebSocket as never })
    cleanups.push(() => device.repo.shutdown())
    const drops: string[] = []
    await waitFor(() => device.relay.connection.state === 'open', { message: 'the device connects' })
    device.relay.onConnection((c) => {
      if (c.state !== 'open') drops.push(c.state)
    })
    const board: DocHandle<Board> = device.repo.create<Board>({ n: 0 })
    const reader: NodeClient = nodeClient(url)
    cleanups.push(() => reader.close())
    const seen = await reader.findEventually<Board>(board.url)
    const victim = board.documentId as string
    let worstLagMs = 0
    let rounds = 0
    let fuzzing = true
    let goodFailure: unknown
    const goodTraffic = (async () => {
      while (fuzzing) {
        const n = board.doc().n + 1
        const at = performance.now()
        board.change((d) => (d.n = n))
        await waitFor(() => seen.doc().n >= n, { timeout: 30_000, message: `the stock client sees change ${n} during the fuzzing` })
        worstLagMs = Math.max(worstLagMs, performance.now() - at)
        rounds++
      }
    })().catch((err: unknown) => (goodFailure = err))

    // Warm up, then measure memory before the bulk of the frames.
    const seeds = [...REGRESSION_SEEDS]
    const seedRng = new Rng(SEED)
    const nextSeed = () => seeds.shift() ?? seedRng.int(1, 2 ** 31 - 1)
    let sent = 0
    let sockets = 0
    const unexpected: SocketResult[] = []
    const runUntil = async (target: number) => {
      const worker = async () => {
        while (sent < target) {
          const seed = nextSeed()
          const result = await play(url, seed, relayPeerId, victim)
          if (Math.floor((sent + result.sent) / 25_000) > Math.floor(sent / 25_000)) {
            const rss = await relay.rss()
            console.log(`  … ${sent + result.sent} frames, ${((performance.now() - started) / 1000).toFixed(0)} s, relay RSS ${((rss ?? 0) / 2 ** 20).toFixed(0)} MB`)
          }
          sent += result.sent
          sockets++
          const closedWell =
            result.offends === 'maybe'
              ? result.close === undefined || EXPECTED_CLOSES.has(result.close)
              : result.offends
                ? result.close !== undefined && EXPECTED_CLOSES.has(result.close)
                : result.close === undefined
          if (!closedWell) unexpected.push(result)
          if (relay.child.exitCode !== null || relay.child.signalCode !== null) throw new Error(`the relay exited during socket seed ${seed}`)
        }
      }
      await Promise.all(Array.from({ length: SOCKETS_AT_ONCE }, worker))
    }
    await runUntil(Math.min(5_000, FRAMES / 10))
    const rssBefore = (await relay.rss())!
    await runUntil(FRAMES)
    fuzzing = false
    await goodTraffic
    const rssAfter = (await relay.rss())!

    const exits = relay.child.exitCode ?? relay.child.signalCode
    const logged = relay.lines.filter((l) => l.includes('"level":"error"'))
    // The log stays one JSON object per line: what automerge-repo prints is routed into it (library-output.ts).
    const notJson = relay.lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object'
      } catch {
        return true
      }
    })
    const librarySaid = relay.lines.filter((l) => l.includes('"msg":"a library said"')).length
    // automerge-repo's uncaught 60-s waits (sync-server/rejections.ts, sync-server/README.md): counted, not errors.
    const waits = relay.lines
      .filter((l) => l.includes('gave up waiting for documents'))
      .reduce((sum, l) => sum + ((JSON.parse(l) as { times?: number }).times ?? 0), 0)
    const mb = (b: number) => (b / 2 ** 20).toFixed(0)
    console.log(
      [
        `relay fuzz (seed ${SEED}): ${sent} frames on ${sockets} sockets in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        `  relay exits: ${exits === null ? 0 : 1}; RSS ${mb(rssBefore)} MB after warm-up, ${mb(rssAfter)} MB at the end`,
        `  good clients: ${rounds} changes seen through the relay during the fuzzing, worst lag ${worstLagMs.toFixed(0)} ms, drops ${drops.length}`,
        `  sockets closed unexpectedly: ${unexpected.length}; errors logged by the relay: ${logged.length}; automerge-repo wait timeouts: ${waits}`,
        `  log lines: ${relay.lines.length}, not JSON: ${notJson.length}; library output summed up in ${librarySaid} lines`,
      ].join('\n'),
    )
    for (const u of unexpected.slice(0, 10)) console.log(`  unexpected: socket seed ${u.seed} (add it to REGRESSION_SEEDS) closed with ${u.close ?? 'nothing'} (offence: ${u.offence ?? 'none'}, ${u.sent} frames sent)`)
    for (const l of logged.slice(0, 5)) console.log(`  relay: ${l.slice(0, 400)}`)

    expect(goodFailure).toBeUndefined()
    expect(sent).toBeGreaterThanOrEqual(FRAMES)
    expect(exits).toBeNull()
    expect(unexpected).toEqual([])
    expect(drops).toEqual([])
    expect(logged).toEqual([])
    expect(notJson.slice(0, 3)).toEqual([])
    // Bounded, generously: automerge-repo keeps some state per peer it met and per pending 60-s wait
    // (see the RSS at each checkpoint above); a leak per frame would be far beyond this.
    expect(rssAfter).toBeLessThan(rssBefore + 384 * 2 ** 20)
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).toBe(true)
  })
})
