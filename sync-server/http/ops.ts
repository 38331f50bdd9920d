/** The operator's endpoints: `/healthz` for liveness checks and `/metrics` for Prometheus. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { renderMetrics, type LiveGauges, type RelayMetrics } from '../metrics.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

function onlyGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true
  res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n')
  return false
}

function send(req: IncomingMessage, res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** `GET /healthz` → `{ ok: true, peers, documents, uptimeSeconds }`. */
export function createHealthHandler(stats: () => LiveGauges): Handler {
  return (req, res) => {
    if (onlyGet(req, res)) send(req, res, 'application/json; charset=utf-8', JSON.stringify({ ok: true, ...stats() }))
  }
}

/** `GET /metrics` → Prometheus text exposition format. */
export function createMetricsHandler(metrics: RelayMetrics, stats: () => LiveGauges): Handler {
  return (req, res) => {
    if (onlyGet(req, res)) send(req, res, 'text/plain; version=0.0.4; charset=utf-8', renderMetrics(metrics, stats()))
  }
}
