import { describe, expect, it } from 'vitest'
import { createLogger, createMemoryLogger } from './log.ts'

describe('log', () => {
  it('writes one JSON object per line with time, level, message and fields', () => {
    const written: string[] = []
    const log = createLogger({ write: (line) => written.push(line) }).child({ conn: 3 })
    log.info('peer joined', { peer: 'p1' })
    expect(written).toHaveLength(1)
    expect(written[0]).not.toContain('\n')
    expect(JSON.parse(written[0] as string)).toEqual({ t: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), level: 'info', msg: 'peer joined', conn: 3, peer: 'p1' })
  })

  it('drops lines below its level, and everything when silent', () => {
    const written: string[] = []
    createLogger({ level: 'warn', write: (l) => written.push(l) }).info('quiet')
    createLogger({ level: 'silent', write: (l) => written.push(l) }).error('quieter')
    expect(written).toEqual([])
  })

  it('keeps the message and code of an error, and survives a circular field', () => {
    const { log, lines } = createMemoryLogger()
    log.error('failed', { err: Object.assign(new Error('disk full'), { code: 'ENOSPC' }) })
    const circular: Record<string, unknown> = {}
    circular.self = circular
    log.warn('odd', { circular })
    expect(lines[0]?.err).toMatchObject({ name: 'Error', message: 'disk full', code: 'ENOSPC' })
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'odd', logError: 'unserialisable fields' })
  })
})
