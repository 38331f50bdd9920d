import { createServer, type Server } from 'node:net'
import type { AddressInfo } from 'node:net'
import { next as A } from '@automerge/automerge'
import { cbor, generateAutomergeUrl, parseAutomergeUrl, type Message, type PeerId, type StorageId } from '@automerge/automerge-repo'
import { WebSocketServer, type WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { CloseCode } from '../../shared/protocol.ts'
import { waitFor } from '../../tests/helpers/wait-for.ts'
import { createMemoryLogger } from '../log.ts'
import { upstreamPeerId } from '../peering.ts'
import { UpstreamAdapter } from './upstream-adapter.ts'

const HALL = 'relay-hall' as PeerId
const REGION = 'relay-region'
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A scripted upstream: records what it receives; answers joins as `REGION` unless told otherwise. */
async function fakeUpstream(options: { answerAs?: string } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const received: Array<Record<string, unknown>> = []
  const sockets: WebSocket[] = []
  const closes: number[] = []
  wss.on('connection', (ws) => {
    sockets.push(ws)
    ws.on('close', (code) => closes.push(code))
    ws.on('message', (data: Buffer) => {
      const message = cbor.decode(data) as Record<string, unknown>
      received.push(message)
      if (message.type === 'join')
        ws.send(cbor.encode({ type: 'peer', senderId: options.answerAs ?? REGION, targetId: message.senderId, peerMetadata: { storageId: 'region-store', isEphemeral: false }, selectedProtocolVersion: '1' }))
    })
  })
  cleanups.push(() => new Promise((resolve) => wss.close(resolve)))
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/sync`
  return { wss, url, received, sockets, closes, last: () => sockets[sockets.length - 1] as WebSocket }
}

function adapterFor(url: string) {
  const { log, lines } = createMemoryLogger()
  const adapter = new UpstreamAdapter({ url, index: 0, log, maxFrameBytes: 1024 * 1024, backoffMs: [20, 40] })
  const events: Array<{ event: string; peerId?: string; type?: string }> = []
  const messages: Message[] = []
  adapter.on('peer-candidate', ({ peerId }) => events.push({ event: 'candidate', peerId }))
  adapter.on('peer-disconnected', ({ peerId }) => events.push({ event: 'disconnected', peerId }))
  adapter.on('message', (m) => messages.push(m))
  adapter.connect(HALL, { storageId: 'hall-store' as StorageId, isEphemeral: false })
  cleanups.push(() => adapter.disconnect())
  return { adapter, lines, events, messages }
}

const ALIAS = upstreamPeerId(0, REGION)
const docId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId
const syncData = () => A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())[1] as Uint8Array

describe('UpstreamAdapter', () => {
  it('joins as the relay and introduces the upstream to the repo under its upstream name', async () => {
    const up = await fakeUpstream()
    const { adapter, events, lines } = adapterFor(up.url)
    await waitFor(() => events.some((e) => e.event === 'candidate'))
    expect(events).toEqual([{ event: 'candidate', peerId: ALIAS }])
    expect(up.received[0]).toMatchObject({ type: 'join', senderId: HALL, peerMetadata: { storageId: 'hall-store', isEphemeral: false }, supportedProtocolVersions: ['1'] })
    expect(adapter.status).toMatchObject({ state: 'open', peer: REGION, failures: 0 })
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'upstream connected', peer: REGION, upstream: up.url }))
  })

  it('translates the upstream\'s name both ways', async () => {
    const up = await fakeUpstream()
    const { adapter, events, messages } = adapterFor(up.url)
    await waitFor(() => events.length === 1)
    const documentId = docId()
    adapter.send({ type: 'sync', senderId: HALL, targetId: ALIAS, documentId, data: syncData() } as Message)
    const sent = await waitFor(() => up.received.find((m) => m.type === 'sync'))
    expect(sent).toMatchObject({ senderId: HALL, targetId: REGION, documentId })

    up.last().send(cbor.encode({ type: 'sync', senderId: REGION, targetId: HALL, documentId, data: syncData() }))
    const got = await waitFor(() => messages[0])
    expect(got).toMatchObject({ type: 'sync', senderId: ALIAS, targetId: HALL, documentId })
  })

  it('passes neither its clients\' presence nor their sender IDs upstream', async () => {
    const up = await fakeUpstream()
    const { adapter, events } = adapterFor(up.url)
    await waitFor(() => events.length === 1)
    const documentId = docId()
    adapter.send({ type: 'ephemeral', senderId: HALL, targetId: ALIAS, documentId, data: new Uint8Array([1]), count: 1, sessionId: 's' } as Message)
    adapter.send({ type: 'sync', senderId: 'peer-phone' as PeerId, targetId: ALIAS, documentId, data: syncData() } as Message)
    adapter.send({ type: 'sync', senderId: HALL, targetId: ALIAS, documentId, data: syncData() } as Message)
    await waitFor(() => up.received.some((m) => m.type === 'sync'))
    expect(up.received.filter((m) => m.type !== 'join')).toEqual([expect.objectContaining({ type: 'sync', senderId: HALL })])
  })

  it('tells the repo the upstream is gone when the line drops, and comes back by itself', async () => {
    const up = await fakeUpstream()
    const { events, lines } = adapterFor(up.url)
    await waitFor(() => events.length === 1)
    up.last().terminate()
    await waitFor(() => events.filter((e) => e.event === 'candidate').length === 2, { message: 'reconnects' })
    expect(events).toEqual([
      { event: 'candidate', peerId: ALIAS },
      { event: 'disconnected', peerId: ALIAS },
      { event: 'candidate', peerId: ALIAS },
    ])
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'upstream disconnected', retryInMs: expect.any(Number) }))
  })

  it('closes the connection on a bad frame from the upstream, says why, and tries again later', async () => {
    const up = await fakeUpstream()
    const { events, lines } = adapterFor(up.url)
    await waitFor(() => events.length === 1)
    up.last().send(new Uint8Array([0xff, 0xfe, 0xfd, 0x00]))
    await waitFor(() => up.closes.includes(CloseCode.malformed), { message: 'closed with 4400' })
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'upstream sent a bad frame; reconnecting later', reason: 'malformed-frame' }))
    await waitFor(() => up.sockets.length === 2, { message: 'tries again' })
  })

  it('refuses to peer with itself', async () => {
    const up = await fakeUpstream({ answerAs: HALL })
    const { events, lines } = adapterFor(up.url)
    await waitFor(() => up.closes.includes(CloseCode.protocol))
    expect(events).toEqual([])
    expect(lines).toContainEqual(expect.objectContaining({ detail: 'the upstream is this relay itself' }))
  })

  it('keeps trying an upstream it cannot reach, saying so once', async () => {
    // A port nothing listens on: take one, then free it.
    const server: Server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    await new Promise((resolve) => server.close(resolve))
    const { adapter, lines } = adapterFor(`ws://127.0.0.1:${port}/sync`)
    await waitFor(() => adapter.status.failures >= 3, { message: 'several attempts' })
    expect(lines.filter((l) => l.msg === 'upstream unreachable; retrying')).toHaveLength(1)
    expect(adapter.status.state).toMatch(/waiting|connecting/)
  })
})
