import { describe, expect, it } from 'vitest'
import { RelayMetrics, renderMetrics } from './metrics.ts'

describe('renderMetrics', () => {
  it('renders counters, gauges, labelled refusals and the storage summary as Prometheus text', () => {
    const m = new RelayMetrics()
    m.connectionsOpen = 2
    m.bytesIn = 1234
    m.refuse('frame-too-large')
    m.refuse('frame-too-large')
    m.refuse('malformed-frame')
    m.refuse('busy')
    m.observeStorageWrite(0.25, false)
    m.observeStorageWrite(0.5, true)
    const text = renderMetrics(m, { peers: 2, documents: 5, uptimeSeconds: 60, eventLoopUtilization: 0.93, heapUse: 0.42, busy: true })
    expect(text).toContain('# TYPE placette_relay_connections gauge\nplacette_relay_connections 2\n')
    expect(text).toContain('placette_relay_received_bytes_total 1234\n')
    expect(text).toContain('placette_relay_frames_refused_total{reason="frame-too-large"} 2\n')
    expect(text).toContain('placette_relay_frames_refused_total{reason="malformed-frame"} 1\n')
    expect(text).toContain('placette_relay_frames_refused_total{reason="busy"} 1\n')
    expect(text).toContain('placette_relay_documents_in_memory 5\n')
    expect(text).toContain('\nplacette_relay_event_loop_utilization 0.93\n')
    expect(text).toContain('\nplacette_relay_busy 1\n')
    expect(text).toContain('\nplacette_relay_heap_use_ratio 0.42\n')
    expect(text).toContain('placette_relay_storage_write_seconds_sum 0.75\nplacette_relay_storage_write_seconds_count 2\n')
    expect(text).toContain('placette_relay_storage_write_errors_total 1\n')
    expect(text.endsWith('\n')).toBe(true)
  })
})
