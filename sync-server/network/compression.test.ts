/**
 * The relay's permessage-deflate (ws-server-adapter.ts `COMPRESSION`): negotiated without context
 * takeover for what the relay sends, and with the patched ws (patches/ws+8.23.0.patch) no deflate
 * stream stays on a socket after a message, which is what keeps a relay with thousands of clients in
 * memory.
 */
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import zlib from 'node:zlib'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { COMPRESSION } from './ws-server-adapter.ts'

/** ws's extension object for permessage-deflate on a socket (internal, stable since ws 2). */
type Deflating = { _deflate: unknown }
const extension = (ws: WebSocket) => (ws as unknown as { _extensions: Record<string, Deflating | undefined> })._extensions['permessage-deflate']

const servers: WebSocketServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate()
    await new Promise((resolve) => s.close(resolve))
  }
})

async function pair(): Promise<{ server: WebSocket; client: WebSocket; header: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: COMPRESSION })
  servers.push(wss)
  await once(wss, 'listening')
  // As a browser does: offers permessage-deflate with client_max_window_bits.
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: true })
  const [[server], [response]] = await Promise.all([once(wss, 'connection'), once(client, 'upgrade'), once(client, 'open')])
  return { server: server as WebSocket, client, header: String((response as { headers: Record<string, string> }).headers['sec-websocket-extensions']) }
}

const big = () => Buffer.from('Qui peut m’emmener à la pharmacie jeudi ? '.repeat(2_000))

describe('the relay’s WebSocket compression', () => {
  it('is negotiated without context takeover for what the relay sends, with it for what devices send', async () => {
    const { header } = await pair()
    expect(header).toContain('permessage-deflate')
    expect(header).toContain('server_no_context_takeover')
    expect(header).not.toContain('client_no_context_takeover')
  })

  it('keeps no deflate stream on the socket once a message went out, and every message arrives whole', async () => {
    const { server, client } = await pair()
    const down = once(client, 'message')
    server.send(big())
    const [received] = await down
    expect(Buffer.compare(received as Buffer, big())).toBe(0)
    // The relay's deflate stream is closed after the message (stock ws keeps it, about 256 KB).
    expect(extension(server)?._deflate).toBeNull()

    const up = once(server, 'message')
    client.send(big())
    expect(Buffer.compare((await up)[0] as Buffer, big())).toBe(0)

    // Again, and a small one: a new stream per message, each message still readable.
    for (const message of [big(), Buffer.from('ok')]) {
      const again = once(client, 'message')
      server.send(message)
      expect(Buffer.compare((await again)[0] as Buffer, message)).toBe(0)
      expect(extension(server)?._deflate).toBeNull()
    }
  })

  it('sizes each message’s deflate stream to the message: a small one no longer allocates ~256 KB of zlib state', async () => {
    const { server, client } = await pair()
    const made = vi.spyOn(zlib, 'createDeflateRaw')
    try {
      for (const message of [Buffer.from('{"type":"sync","heads":["a1b2"]}'.repeat(10)), big()]) {
        const down = once(client, 'message')
        server.send(message)
        expect(Buffer.compare((await down)[0] as Buffer, message)).toBe(0)
      }
      const options = made.mock.calls.map(([o]) => ({ windowBits: o?.windowBits, memLevel: o?.memLevel }))
      // 330 bytes: a 1 KB window (330 + zlib's 262-byte lookahead) and 512-symbol blocks; 88 KB: the defaults.
      expect(options).toEqual([
        { windowBits: 10, memLevel: 3 },
        { windowBits: 15, memLevel: 8 },
      ])
    } finally {
      made.mockRestore()
    }
  })

  it('asks devices for a 4 KB window, so the relay’s inflate stream per socket is ~11 KB instead of ~40 KB', async () => {
    const { header, server, client } = await pair()
    expect(header).toContain('client_max_window_bits=12')
    const up = once(server, 'message')
    client.send(big())
    expect(Buffer.compare((await up)[0] as Buffer, big())).toBe(0)
  })

  it('still compresses with a client that does not let the relay choose its window (stock ws refused it with a 400)', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: COMPRESSION })
    servers.push(wss)
    await once(wss, 'listening')
    // A bare upgrade offering permessage-deflate without client_max_window_bits, as some browsers do.
    const request = httpRequest({
      host: '127.0.0.1',
      port: (wss.address() as AddressInfo).port,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Extensions': 'permessage-deflate' },
    })
    request.on('response', (res) => request.destroy(new Error(`upgrade refused with ${res.statusCode}`)))
    request.end()
    const [response, socket] = (await once(request, 'upgrade')) as [IncomingMessage, Socket]
    socket.destroy()
    expect(response.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_no_context_takeover')
  })
})
