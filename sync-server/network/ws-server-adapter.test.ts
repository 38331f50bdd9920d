import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { next as A } from '@automerge/automerge'
import { generateAutomergeUrl, parseAutomergeUrl, type PeerId, type StorageId } from '@automerge/automerge-repo'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../shared/protocol.ts'
import { rawSocket } from '../../tests/helpers/raw-socket.ts'
import { waitFor } from '../../tests/helpers/wait-for.ts'
import { createMemoryLogger } from '../log.ts'
import { RelayMetrics } from '../metrics.ts'
import type { RateLimit } from './token-bucket.ts'
import { WsServerAdapter, type Gatekeeper } from './ws-server-adapter.ts'
import type { Session } from '../access/gate.ts'
import type { MemberId } from '../../shared/ids.ts'
import { BUCKET_HASH_BYTES, DIGEST_BUCKETS } from '../../shared/heads-digest.ts'

const RELAY = 'relay-unit' as PeerId
let server: Server | undefined
let adapter: WsServerAdapter | undefined

async function start(options: { maxBufferedBytes?: number; rateLimit?: RateLimit; keepAliveMs?: number; gatekeeper?: Gatekeeper } = {}) {
  const { log, lines } = createMemoryLogger()
  const metrics = new RelayMetrics()
  const a = new WsServerAdapter({ maxFrameBytes: 1024 * 1024, log, metrics, ...options })
  adapter = a
  a.connect(RELAY, { storageId: 'store-1' as StorageId, isEphemeral: false })
  const events: Array<{ event: string; peerId?: string; type?: string }> = []
  a.on('peer-candidate', ({ peerId }) => events.push({ event: 'candidate', peerId }))
  a.on('peer-disconnected', ({ peerId }) => events.push({ event: 'disconnected', peerId }))
  a.on('message', (m) => events.push({ event: 'message', peerId: m.senderId, type: m.type }))
  server = createServer()
  server.on('upgrade', (req, socket, head) => a.handleUpgrade(req, socket, head))
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/sync`
  return { adapter: a, url, events, lines, metrics }
}

afterEach(async () => {
  await adapter?.closeAll()
  await new Promise((resolve) => server?.close(resolve))
})

const join = (senderId: string, versions = ['1']) => ({ type: 'join', senderId, peerMetadata: { isEphemeral: true }, supportedProtocolVersions: versions })
function sync(senderId: string, targetId: string) {
  const [, data] = A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())
  return { type: 'sync', senderId, targetId, documentId: parseAutomergeUrl(generateAutomergeUrl()).documentId, data }
}

describe('WsServerAdapter', () => {
  it('answers a join with its peer ID, protocol version 1 and a non-ephemeral storage ID', async () => {
    const { url, events } = await start()
    const peer = await rawSocket(url)
    peer.sendCbor(join('peer-a'))
    expect(await peer.next('peer')).toMatchObject({
      senderId: RELAY,
      targetId: 'peer-a',
      selectedProtocolVersion: '1',
      peerMetadata: { storageId: 'store-1', isEphemeral: false },
    })
    expect(events).toContainEqual({ event: 'candidate', peerId: 'peer-a' })
    peer.close()
  })

  it('refuses an unsupported protocol version with an error message and 4401', async () => {
    const { url } = await start()
    const peer = await rawSocket(url)
    peer.sendCbor(join('peer-a', ['99']))
    expect(await peer.next('error')).toMatchObject({ message: 'unsupported protocol version' })
    expect((await peer.closed).code).toBe(CloseCode.protocol)
  })

  it('replaces the old socket when a peer joins again on a new one', async () => {
    const { url, events, adapter } = await start()
    const first = await rawSocket(url)
    first.sendCbor(join('peer-a'))
    await first.next('peer')
    const second = await rawSocket(url)
    second.sendCbor(join('peer-a'))
    await second.next('peer')
    expect((await first.closed).code).toBe(CloseCode.normal)
    expect(events.filter((e) => e.event !== 'message')).toEqual([
      { event: 'candidate', peerId: 'peer-a' },
      { event: 'disconnected', peerId: 'peer-a' },
      { event: 'candidate', peerId: 'peer-a' },
    ])
    // The old socket's close must not unregister the new one.
    expect(adapter.peerCount).toBe(1)
    second.sendCbor(sync('peer-a', RELAY))
    await waitFor(() => events.some((e) => e.event === 'message'))
    second.close()
  })

  it('keeps a reconnecting peer signed in when its old socket’s close arrives while the new join is answered', async () => {
    // Each upgrade signs in anew (a new session); the gatekeeper keeps the peer's current one, as the gate does.
    const sessions: Session[] = []
    const bound = new Map<string, Session>()
    const left: Session[] = []
    const gatekeeper: Gatekeeper = {
      signIn: async () => {
        const session: Session = { id: 'm-unit' as MemberId, peer: 'peer-a', trusted: false, neighbourhoods: [], invitations: [] }
        sessions.push(session)
        return { ok: true, session }
      },
      admit: async (session) => {
        bound.set(session.peer, session)
        return { ok: true }
      },
      checkWrite: async () => ({ ok: true }),
      leave: (session) => {
        left.push(session)
        if (bound.get(session.peer) === session) bound.delete(session.peer)
      },
    }
    const { url, adapter } = await start({ gatekeeper })
    // The second join's digest is answered only once the first socket's close has reached the relay.
    adapter.answerDigestsWith(async () => {
      await waitFor(() => left.length > 0, { message: 'the old socket’s close reached the relay' })
      return { answers: [], commit: () => undefined }
    })
    const first = await rawSocket(url)
    first.sendCbor(join('peer-a'))
    await first.next('peer')
    const second = await rawSocket(url)
    const digest = [{ neighbourhood: parseAutomergeUrl(generateAutomergeUrl()).documentId, buckets: new Uint8Array(DIGEST_BUCKETS * BUCKET_HASH_BYTES) }]
    second.sendCbor({ ...join('peer-a'), peerMetadata: { isEphemeral: true, placetteDigest: digest } })
    await second.next('peer')
    expect((await first.closed).code).toBe(CloseCode.normal)
    // Only the first socket's session left; the peer is still signed in on the second.
    expect(left).toEqual([sessions[0]])
    expect(left[0]).toBe(sessions[0])
    expect(bound.get('peer-a')).toBe(sessions[1])
    second.close()
  })

  it('delivers checked messages and drops those meant for another peer', async () => {
    const { url, events, metrics } = await start()
    const peer = await rawSocket(url)
    peer.sendCbor(join('peer-a'))
    await peer.next('peer')
    peer.sendCbor(sync('peer-a', 'relay-of-yesterday'))
    peer.sendCbor(sync('peer-a', RELAY))
    await waitFor(() => events.some((e) => e.event === 'message'))
    expect(events.filter((e) => e.event === 'message')).toEqual([{ event: 'message', peerId: 'peer-a', type: 'sync' }])
    expect(metrics.refused.get('wrong-target')).toBe(1)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    peer.close()
  })

  it('takes messages sent right behind the join, before the relay has handled it', async () => {
    const { url, events, lines } = await start()
    const peer = await rawSocket(url, { perMessageDeflate: false })
    // In one write, so the relay reads all three frames before its queue handles the join.
    peer.together(() => {
      peer.sendCbor(join('peer-a'))
      peer.sendCbor(sync('peer-a', RELAY))
      peer.sendCbor(sync('peer-a', RELAY))
    })
    await waitFor(() => events.filter((e) => e.event === 'message').length === 2)
    expect(lines.filter((l) => l.msg === 'socket refused')).toEqual([])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    peer.close()
  })

  it('still refuses a message from another peer sent right behind the join', async () => {
    const { url } = await start()
    const peer = await rawSocket(url, { perMessageDeflate: false })
    peer.together(() => {
      peer.sendCbor(join('peer-a'))
      peer.sendCbor(sync('peer-b', RELAY))
    })
    expect((await peer.closed).code).toBe(CloseCode.protocol)
  })

  it('keeps the socket and logs when the repo throws on a message', async () => {
    const { url, lines, adapter, metrics } = await start()
    adapter.on('message', () => {
      throw new Error('repo bug')
    })
    const peer = await rawSocket(url)
    peer.sendCbor(join('peer-a'))
    await peer.next('peer')
    peer.sendCbor(sync('peer-a', RELAY))
    await waitFor(() => lines.find((l) => l.msg === 'repo failed on a message'))
    expect(metrics.refused.get('repo-error')).toBe(1)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    peer.close()
  })

  it('closes only the offending socket, with a log line saying why', async () => {
    const { url, lines, metrics } = await start()
    const good = await rawSocket(url)
    good.sendCbor(join('peer-good'))
    await good.next('peer')
    const bad = await rawSocket(url)
    bad.sendCbor(sync('peer-bad', RELAY))
    expect((await bad.closed).code).toBe(CloseCode.protocol)
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'socket refused', reason: 'protocol-violation', detail: 'sync before join' }))
    expect(metrics.refused.get('protocol-violation')).toBe(1)
    expect(good.ws.readyState).toBe(good.ws.OPEN)
    good.close()
  })

  it('cuts off a peer that stops reading before its queue exhausts memory', async () => {
    const { url, adapter, metrics } = await start({ maxBufferedBytes: 256 * 1024 })
    const slow = await rawSocket(url, { perMessageDeflate: false })
    slow.sendCbor(join('peer-slow'))
    await slow.next('peer')
    // Stop reading: the kernel buffers fill, then the relay's queue grows.
    ;(slow.ws as unknown as { _socket: { pause(): void } })._socket.pause()
    const big = new Uint8Array(512 * 1024).map((_, i) => (i * 31) % 256)
    const documentId = parseAutomergeUrl(generateAutomergeUrl()).documentId
    await waitFor(() => {
      adapter.send({ type: 'sync', senderId: RELAY, targetId: 'peer-slow' as PeerId, documentId, data: big })
      return metrics.refused.get('slow-consumer') === 1
    }, { interval: 1, message: 'the slow peer is cut off' })
    expect(adapter.peerCount).toBe(0)
  })

  it('slows a peer over its rate instead of refusing it', async () => {
    const { url, events, metrics } = await start({ rateLimit: { bytesPerSecond: 50_000, burstBytes: 1024 } })
    const peer = await rawSocket(url)
    peer.sendCbor(join('peer-busy'))
    await peer.next('peer')
    for (let i = 0; i < 5; i++) peer.sendCbor(sync('peer-busy', RELAY))
    await waitFor(() => events.filter((e) => e.event === 'message').length === 5, { message: 'all five messages delivered' })
    expect(metrics.throttled).toBeGreaterThan(0)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    peer.close()
  })

  describe('keep-alive', () => {
    it('drops a peer that answers neither pings nor with any frame', async () => {
      const { url, lines } = await start({ keepAliveMs: 40 })
      const peer = await rawSocket(url, { autoPong: false })
      peer.sendCbor(join('peer-silent'))
      await peer.next('peer')
      expect((await peer.closed).code).toBe(1006)
      expect(lines.some((l) => l.msg === 'peer stopped answering pings; dropped')).toBe(true)
    })

    it('keeps a peer whose pongs are late as long as its frames keep coming', async () => {
      const { url } = await start({ keepAliveMs: 40 })
      const peer = await rawSocket(url, { autoPong: false })
      peer.sendCbor(join('peer-busy'))
      await peer.next('peer')
      let pings = 0
      peer.ws.on('ping', () => {
        pings++
        peer.sendCbor(sync('peer-busy', RELAY))
      })
      await waitFor(() => pings >= 6 || undefined, { message: 'six pings' })
      expect(peer.ws.readyState).toBe(peer.ws.OPEN)
      peer.close()
    })

    it('gives a peer more rounds while the relay still has output queued for it', async () => {
      const { url, adapter: a, lines } = await start({ keepAliveMs: 40 })
      const peer = await rawSocket(url, { autoPong: false, perMessageDeflate: false })
      peer.sendCbor(join('peer-behind'))
      await peer.next('peer')
      // The peer stops reading: what the relay sends it piles up on the relay's side.
      ;(peer.ws as unknown as { _socket: import('node:net').Socket })._socket.pause()
      const big = new Uint8Array(256 * 1024).fill(7)
      for (let i = 0; i < 32; i++) a.send({ type: 'sync', senderId: RELAY, targetId: 'peer-behind' as PeerId, documentId: parseAutomergeUrl(generateAutomergeUrl()).documentId, data: big })
      const dropped = () => lines.find((l) => l.msg === 'peer stopped answering pings; dropped')
      const line = await waitFor(dropped, { message: 'the peer dropped' })
      // Dropped at last, after the late rounds (3 passes spared, then the 4th drops).
      expect(line).toMatchObject({ late: 4 })
    })
  })
})
