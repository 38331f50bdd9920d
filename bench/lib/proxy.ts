/**
 * A loopback TCP proxy between a device and a server: it counts the bytes that really cross the
 * wire (TCP payload: HTTP upgrade, WebSocket framing, compression included) and plays the network
 * going away (`cut`: open connections end, new ones are refused) and coming back (`restore`).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export interface WireCount {
  /** Bytes from the device to the server. */
  up: number
  /** Bytes from the server to the device. */
  down: number
  /** TCP connections opened through the proxy. */
  connections: number
}

/** One TCP connection through the proxy: what it asked for and its bytes each way. */
export interface ConnectionCount {
  /** The first line the device sent (`GET /sync HTTP/1.1`), its query left out (`?…` and its length). */
  request: string
  up: number
  down: number
}

/** The request line of a connection's first bytes, without its query (a sign-in token is long and private). */
function requestLine(chunk: Buffer): string {
  const line = chunk.toString('latin1', 0, Math.min(chunk.byteLength, 4096)).split('\r\n', 1)[0] ?? ''
  return line.replace(/\?(\S*)/, (_, query: string) => `?… (${query.length + 1} B)`).slice(0, 200)
}

export interface Proxy {
  /** Port the device connects to, on 127.0.0.1. */
  port: number
  /** `targetUrl` with its port replaced by the proxy's. */
  url(targetUrl: string): string
  /** Counts since the proxy started. */
  count(): WireCount
  /** Each connection since the proxy started, in the order they opened. */
  connections(): readonly ConnectionCount[]
  /** The network goes away: every open connection ends and new ones are refused. */
  cut(): Promise<void>
  /** The network comes back, on the same port. */
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  const total: WireCount = { up: 0, down: 0, connections: 0 }
  const each: ConnectionCount[] = []
  const open = new Set<Socket>()
  let server: Server | undefined
  let port = 0

  const listen = async () => {
    const s = createServer((client) => {
      total.connections++
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
      // As `ws` does on its own sockets: no Nagle delay on small frames.
      client.setNoDelay(true)
      upstream.setNoDelay(true)
      open.add(client)
      open.add(upstream)
      const mine: ConnectionCount = { request: '', up: 0, down: 0 }
      each.push(mine)
      client.on('data', (chunk: Buffer) => {
        if (!mine.request) mine.request = requestLine(chunk)
        total.up += chunk.byteLength
        mine.up += chunk.byteLength
      })
      upstream.on('data', (chunk: Buffer) => {
        total.down += chunk.byteLength
        mine.down += chunk.byteLength
      })
      client.pipe(upstream)
      upstream.pipe(client)
      const end = () => {
        client.destroy()
        upstream.destroy()
        open.delete(client)
        open.delete(upstream)
      }
      client.on('error', end)
      upstream.on('error', end)
      client.on('close', end)
      upstream.on('close', end)
    })
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as { port: number }).port
    server = s
  }
  await listen()

  const stopListening = async () => {
    const s = server
    server = undefined
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  return {
    get port() {
      return port
    },
    url: (targetUrl) => {
      const u = new URL(targetUrl)
      u.port = String(port)
      return u.toString().replace(/\/$/, '')
    },
    count: () => ({ ...total }),
    connections: () => each.map((c) => ({ ...c })),
    cut: async () => {
      // Refuse first (the device sees ECONNREFUSED, as when the network is gone), then end what is open.
      const closed = stopListening()
      for (const socket of open) socket.end()
      setTimeout(() => {
        for (const socket of open) socket.destroy()
      }, 50).unref()
      await closed
    },
    restore: async () => {
      if (!server) await listen()
    },
    close: async () => {
      for (const socket of open) socket.destroy()
      await stopListening()
    },
  }
}
