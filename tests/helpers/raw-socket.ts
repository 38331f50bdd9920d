/**
 * A bare WebSocket speaking CBOR frames, for tests that play a misbehaving (or very precise) peer.
 */
import { cbor } from '@automerge/automerge-repo'
import { WebSocket } from 'ws'
import { waitFor } from './wait-for.ts'

export interface RawSocket {
  ws: WebSocket
  /** Decoded frames received so far. */
  received: Array<Record<string, unknown>>
  /** Resolves with the close code and reason once the socket is closed. */
  closed: Promise<{ code: number; reason: string }>
  sendCbor(value: unknown): void
  sendBytes(bytes: Uint8Array): void
  /** Waits for a received frame of this type and returns it. */
  next(type: string): Promise<Record<string, unknown>>
  /** Sends what `send` sends in one write, so the other end reads those frames in one go. */
  together(send: () => void): void
  close(): void
}

/** `autoPong: false` plays a peer that never answers pings. */
export async function rawSocket(url: string, options: { perMessageDeflate?: boolean; autoPong?: boolean } = {}): Promise<RawSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: options.perMessageDeflate ?? true, autoPong: options.autoPong ?? true })
  const received: Array<Record<string, unknown>> = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }))
  })
  // A refused socket may see ECONNRESET; the close event is what tests look at.
  ws.on('error', () => undefined)
  ws.on('message', (data: Buffer) => {
    try {
      received.push(cbor.decode(data) as Record<string, unknown>)
    } catch {
      received.push({ type: 'undecodable' })
    }
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)))
    ws.once('error', reject)
  })
  return {
    ws,
    received,
    closed,
    sendCbor: (value) => ws.send(cbor.encode(value)),
    sendBytes: (bytes) => ws.send(bytes),
    next: (type) => waitFor(() => received.find((m) => m.type === type), { message: `a ${type} frame` }),
    together: (send) => {
      // ws keeps its net.Socket private; corking it turns the frames into one writev.
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket
      socket.cork()
      send()
      socket.uncork()
    },
    close: () => ws.close(),
  }
}
