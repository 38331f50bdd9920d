import { describe, expect, it } from 'vitest'
import { createMemoryLogger } from './log.ts'
import { createRejectionHandler } from './rejections.ts'

const timeout = () => Object.assign(new Error('withTimeout: timed out after 60000ms'), { name: 'TimeoutError' })

describe('unhandled rejections', () => {
  it('logs an unknown rejection as an error, every time', () => {
    const { log, lines } = createMemoryLogger()
    const handle = createRejectionHandler(log)
    handle(new Error('boom'))
    handle(new Error('boom'))
    expect(lines.filter((l) => l.level === 'error' && l.msg === 'unhandled rejection')).toHaveLength(2)
  })

  it('sums up automerge-repo’s wait timeouts at most once a minute, so no peer can flood the log', () => {
    const { log, lines } = createMemoryLogger()
    let t = 0
    const handle = createRejectionHandler(log, () => t)
    for (let i = 0; i < 1000; i++) handle(timeout())
    t = 61_000
    handle(timeout())
    expect(lines.filter((l) => l.level === 'error')).toEqual([])
    expect(lines.map((l) => [l.level, l.times])).toEqual([
      ['warn', 1],
      ['warn', 1000],
    ])
  })
})
