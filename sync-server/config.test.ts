import { describe, expect, it } from 'vitest'
import { MAX_FRAME_BYTES } from '../shared/protocol.ts'
import { ConfigError, DEFAULT_CONFIG, parseConfig, USAGE, wantsHelp } from './config.ts'

describe('parseConfig', () => {
  it('uses the defaults when given nothing', () => {
    expect(parseConfig([], {})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      dataDir: './data',
      staticDir: './dist',
      maxFrameBytes: MAX_FRAME_BYTES,
      logLevel: 'info',
      upstreams: [],
      access: 'members',
      trustRelays: [],
      allowOrigins: [],
      evictIdleMs: 60_000,
      maxDocumentsInMemory: 1_000,
      busyUtilization: 70,
      busyHeap: 75,
    })
    expect(parseConfig([], {})).toEqual(DEFAULT_CONFIG)
  })

  it('reads the environment', () => {
    const env = { PORT: '8080', HOST: '127.0.0.1', PLACETTE_DATA: '/var/lib/placette', PLACETTE_STATIC: '/srv/app', PLACETTE_MAX_FRAME_BYTES: '65536', PLACETTE_LOG_LEVEL: 'warn' }
    expect(parseConfig([], env)).toEqual({ port: 8080, host: '127.0.0.1', dataDir: '/var/lib/placette', staticDir: '/srv/app', maxFrameBytes: 65536, logLevel: 'warn', upstreams: [], access: 'members', trustRelays: [], allowOrigins: [], evictIdleMs: 60_000, maxDocumentsInMemory: 1_000, busyUtilization: 70, busyHeap: 75 })
  })

  it('reads the eviction settings from the environment and flags (0 turns each off)', () => {
    expect(parseConfig([], { PLACETTE_EVICT_IDLE_MS: '500', PLACETTE_MAX_DOCUMENTS_IN_MEMORY: '0' })).toMatchObject({ evictIdleMs: 500, maxDocumentsInMemory: 0 })
    expect(parseConfig(['--evict-idle-ms=0', '--max-documents-in-memory', '20'], { PLACETTE_EVICT_IDLE_MS: '500' })).toMatchObject({ evictIdleMs: 0, maxDocumentsInMemory: 20 })
    expect(() => parseConfig(['--evict-idle-ms', '-1'], {})).toThrow(ConfigError)
  })

  it('reads when the relay counts as saturated (0 turns admission off)', () => {
    expect(parseConfig([], { PLACETTE_BUSY_UTILIZATION: '0' }).busyUtilization).toBe(0)
    expect(parseConfig(['--busy-utilization', '95'], { PLACETTE_BUSY_UTILIZATION: '0' }).busyUtilization).toBe(95)
    expect(() => parseConfig(['--busy-utilization', '30'], {})).toThrow('--busy-utilization must be 0 (off) or an integer from 50 to 100, got "30"')
    expect(() => parseConfig(['--busy-utilization', '101'], {})).toThrow(ConfigError)
    expect(parseConfig([], { PLACETTE_BUSY_HEAP: '0' }).busyHeap).toBe(0)
    expect(parseConfig(['--busy-heap=85'], {}).busyHeap).toBe(85)
    expect(() => parseConfig(['--busy-heap', '95'], {})).toThrow('--busy-heap must be 0 (off) or an integer from 50 to 90, got "95"')
  })

  it('lets flags win over the environment, in both spellings', () => {
    const config = parseConfig(['--port', '0', '--data=/tmp/relay', '--log-level', 'silent', '--max-frame-bytes=2048'], { PORT: '8080', PLACETTE_DATA: '/elsewhere' })
    expect(config).toMatchObject({ port: 0, dataDir: '/tmp/relay', logLevel: 'silent', maxFrameBytes: 2048 })
  })

  it('ignores empty environment variables', () => {
    expect(parseConfig([], { PORT: '' }).port).toBe(3000)
  })

  it('refuses an unknown flag, naming it and showing the usage', () => {
    expect(() => parseConfig(['--prot', '3000'], {})).toThrow(ConfigError)
    expect(() => parseConfig(['--prot', '3000'], {})).toThrow(/unknown option "--prot"[\s\S]*--port/)
    expect(() => parseConfig(['3000'], {})).toThrow(/unknown option "3000"/)
  })

  it('refuses bad values with a clear message', () => {
    expect(() => parseConfig(['--port', '70000'], {})).toThrow('--port must be an integer from 0 to 65535, got "70000"')
    expect(() => parseConfig(['--port', 'abc'], {})).toThrow(/--port must be an integer/)
    expect(() => parseConfig([], { PORT: '3.5' })).toThrow(/PORT must be an integer/)
    expect(() => parseConfig(['--log-level', 'loud'], {})).toThrow(/--log-level must be one of debug, info, warn, error, silent/)
    expect(() => parseConfig(['--max-frame-bytes', '10'], {})).toThrow(/--max-frame-bytes/)
    expect(() => parseConfig(['--data'], {})).toThrow('--data needs a value')
    expect(() => parseConfig(['--data', '--port', '1'], {})).toThrow('--data needs a value')
    expect(() => parseConfig(['--host='], {})).toThrow('--host must not be empty')
  })

  it('knows when help is asked for', () => {
    expect(wantsHelp(['--help'])).toBe(true)
    expect(wantsHelp(['--port', '1'])).toBe(false)
    expect(USAGE).toContain('PLACETTE_DATA')
  })

  it('takes --upstream several times, as sync URLs', () => {
    const config = parseConfig(['--upstream', 'ws://region.example:3000/sync', '--upstream=wss://placette.example.org'], {})
    expect(config.upstreams).toEqual(['ws://region.example:3000/sync', 'wss://placette.example.org/sync'])
  })

  it('turns the address people open into the sync URL, and drops repeats', () => {
    expect(parseConfig(['--upstream', 'http://192.168.1.20:3000', '--upstream', 'https://relais.example/placette/sync', '--upstream', 'http://192.168.1.20:3000/'], {}).upstreams).toEqual([
      'ws://192.168.1.20:3000/sync',
      'wss://relais.example/placette/sync',
    ])
  })

  it('reads PLACETTE_UPSTREAM as a list, and lets --upstream flags replace it', () => {
    const env = { PLACETTE_UPSTREAM: 'ws://a.example/sync, ws://b.example/sync' }
    expect(parseConfig([], env).upstreams).toEqual(['ws://a.example/sync', 'ws://b.example/sync'])
    expect(parseConfig(['--upstream', 'ws://c.example/sync'], env).upstreams).toEqual(['ws://c.example/sync'])
  })

  it('refuses an upstream that is not a ws(s) or http(s) URL', () => {
    expect(() => parseConfig(['--upstream', 'region.example:3000'], {})).toThrow(/--upstream must be a ws:\/\/, wss:\/\/, http:\/\/ or https:\/\/ URL/)
    expect(() => parseConfig(['--upstream', 'ftp://region.example'], {})).toThrow(ConfigError)
    expect(() => parseConfig(['--upstream', 'ws://region.example/sync#x'], {})).toThrow(/fragment/)
    expect(() => parseConfig(['--upstream='], {})).toThrow('--upstream must not be empty')
    expect(() => parseConfig([], { PLACETTE_UPSTREAM: 'nope' })).toThrow(/PLACETTE_UPSTREAM must be/)
    expect(USAGE).toContain('--upstream <item>')
  })
})
