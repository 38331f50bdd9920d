/**
 * The relay's counters and their Prometheus text rendering (exposition format 0.0.4). A handful of
 * numbers does not need a client library.
 */

/** Why a frame or a socket was refused; the label of `placette_relay_frames_refused_total`. */
export type RefusalReason =
  | 'malformed-frame'
  | 'frame-too-large'
  | 'protocol-violation'
  | 'wrong-target'
  | 'slow-consumer'
  | 'repo-error'
  | 'unauthorized'
  | 'forbidden'
  | 'cut-off'
  /** A new socket while the relay was saturated (sync-server/admission.ts). */
  | 'busy'

export class RelayMetrics {
  connectionsOpen = 0
  connectionsTotal = 0
  framesIn = 0
  framesOut = 0
  bytesIn = 0
  bytesOut = 0
  /** Times a peer went over its inbound rate and the relay paused reading it. */
  throttled = 0
  readonly refused = new Map<RefusalReason, number>()
  storageWriteSeconds = 0
  storageWrites = 0
  storageErrors = 0

  refuse(reason: RefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
  }

  observeStorageWrite(seconds: number, failed: boolean): void {
    this.storageWriteSeconds += seconds
    this.storageWrites++
    if (failed) this.storageErrors++
  }
}

/** Gauges that are read from the live relay when /metrics is scraped. */
export interface LiveGauges {
  peers: number
  documents: number
  /** Documents evicted from memory since start. */
  documentsEvicted?: number
  uptimeSeconds: number
  /** Mean event-loop utilization (0–1) over the admission window (sync-server/admission.ts). */
  eventLoopUtilization?: number
  /** Share (0–1) of V8's heap limit in use, lowest over the admission window. */
  heapUse?: number
  /** True while new sockets are refused as the relay is saturated. */
  busy?: boolean
}

type Sample = { labels?: Record<string, string>; value: number }
type Family = { name: string; help: string; type: 'counter' | 'gauge' | 'summary'; samples: Sample[] }

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

function render(families: readonly Family[]): string {
  const out: string[] = []
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`)
    for (const s of f.samples) {
      const labels = s.labels
        ? '{' + Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') + '}'
        : ''
      out.push(`${f.name}${labels} ${Number.isFinite(s.value) ? s.value : 0}`)
    }
  }
  return out.join('\n') + '\n'
}

/** Renders the metrics as Prometheus text. */
export function renderMetrics(m: RelayMetrics, live: LiveGauges): string {
  const refusals: Sample[] = [...m.refused.entries()].map(([reason, value]) => ({ labels: { reason }, value }))
  const families: Family[] = [
    { name: 'placette_relay_up', help: 'Always 1 while the relay answers.', type: 'gauge', samples: [{ value: 1 }] },
    { name: 'placette_relay_uptime_seconds', help: 'Seconds since the relay started.', type: 'gauge', samples: [{ value: live.uptimeSeconds }] },
    { name: 'placette_relay_connections', help: 'Open WebSocket connections.', type: 'gauge', samples: [{ value: m.connectionsOpen }] },
    { name: 'placette_relay_connections_total', help: 'WebSocket connections accepted.', type: 'counter', samples: [{ value: m.connectionsTotal }] },
    { name: 'placette_relay_peers', help: 'Peers that completed the join handshake.', type: 'gauge', samples: [{ value: live.peers }] },
    { name: 'placette_relay_documents_in_memory', help: 'Documents the relay holds in memory.', type: 'gauge', samples: [{ value: live.documents }] },
    { name: 'placette_relay_documents_evicted_total', help: 'Idle documents evicted from memory since start.', type: 'counter', samples: [{ value: live.documentsEvicted ?? 0 }] },
    { name: 'placette_relay_event_loop_utilization', help: 'Share of time the relay was running code rather than waiting, over the last seconds (0-1).', type: 'gauge', samples: [{ value: live.eventLoopUtilization ?? 0 }] },
    { name: 'placette_relay_heap_use_ratio', help: 'Share of the most the JavaScript heap may grow to that is in use, lowest over the last seconds (0-1); new sockets are refused from --busy-heap.', type: 'gauge', samples: [{ value: live.heapUse ?? 0 }] },
    { name: 'placette_relay_busy', help: '1 while the relay is saturated and refuses new sockets (they are told when to come back).', type: 'gauge', samples: [{ value: live.busy ? 1 : 0 }] },
    { name: 'placette_relay_frames_received_total', help: 'WebSocket frames received.', type: 'counter', samples: [{ value: m.framesIn }] },
    { name: 'placette_relay_frames_sent_total', help: 'WebSocket frames sent.', type: 'counter', samples: [{ value: m.framesOut }] },
    { name: 'placette_relay_received_bytes_total', help: 'Payload bytes received (uncompressed size).', type: 'counter', samples: [{ value: m.bytesIn }] },
    { name: 'placette_relay_sent_bytes_total', help: 'Payload bytes sent (uncompressed size).', type: 'counter', samples: [{ value: m.bytesOut }] },
    { name: 'placette_relay_throttled_total', help: 'Times a peer exceeded its inbound rate and reading it was paused.', type: 'counter', samples: [{ value: m.throttled }] },
    { name: 'placette_relay_frames_refused_total', help: 'Frames or sockets refused, by reason.', type: 'counter', samples: refusals },
    { name: 'placette_relay_storage_write_errors_total', help: 'Storage writes that failed.', type: 'counter', samples: [{ value: m.storageErrors }] },
  ]
  const summary =
    '# HELP placette_relay_storage_write_seconds Time spent in durable storage writes.\n' +
    '# TYPE placette_relay_storage_write_seconds summary\n' +
    `placette_relay_storage_write_seconds_sum ${m.storageWriteSeconds}\n` +
    `placette_relay_storage_write_seconds_count ${m.storageWrites}\n`
  return render(families) + summary
}
