/**
 * The Yjs baseline's server: y-websocket's reference server (`@y/websocket-server`, `setupWSConnection`)
 * on a `ws` server with its defaults (no permessage-deflate), documents in memory (no YPERSISTENCE).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setupWSConnection } from '@y/websocket-server/utils'
import { WebSocketServer } from 'ws'
import { serveChild } from './child.ts'

serveChild(async () => {
  const wss = new WebSocketServer({ noServer: true })
  wss.on('connection', (ws, req) => setupWSConnection(ws, req))
  const server = createServer((_req, res) => res.end('okay'))
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
})
