/**
 * The stock setup, as automerge-repo-sync-server (src/server.js) builds it, on the versions this repo
 * uses: a Repo with the NodeFS storage adapter and the stock WebSocket server adapter on a `ws` server
 * with its defaults (no permessage-deflate), sharing nothing unasked.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Repo, type PeerId } from '@automerge/automerge-repo'
import { NodeWSServerAdapter } from '@automerge/automerge-repo-network-websocket'
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs'
import { WebSocketServer } from 'ws'
import { serveChild } from './child.ts'

serveChild(async ({ dataDir }) => {
  const wss = new WebSocketServer({ noServer: true })
  const repo = new Repo({
    network: [new NodeWSServerAdapter(wss as never)],
    storage: new NodeFSStorageAdapter(dataDir),
    peerId: 'storage-server-bench' as PeerId,
    sharePolicy: async () => false,
  })
  const server = createServer((_req, res) => res.end('👍 @automerge/automerge-repo-sync-server is running'))
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      await repo.shutdown().catch(() => undefined)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
})
