import { describe, expect, it } from 'vitest'
import { createMemoryLogger } from './log.ts'
import { kindOf, routeLibraryOutput } from './library-output.ts'

/** A console of our own, so the test's output stays the test runner's. */
const fakeConsole = () => ({ log: (..._args: unknown[]) => undefined, warn: (..._args: unknown[]) => undefined })

describe('what libraries print on the relay', () => {
  it('becomes one JSON line the first time, with the error and who sent what, never the bytes', () => {
    const { log, lines } = createMemoryLogger()
    const target = fakeConsole()
    routeLibraryOutput(log, target, () => 0)
    const message = { type: 'ephemeral', senderId: 'fuzz-abc', documentId: '4CfaXtAy7TyrS3uYJgyQib4Q2gRu', data: new Uint8Array(2000) }
    target.log('error receiving message', { err: new Error('Unexpected end of CBOR data'), message })
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'a library said', said: 'error receiving message', err: 'Error: Unexpected end of CBOR data', type: 'ephemeral', senderId: 'fuzz-abc', documentId: '4CfaXtAy7TyrS3uYJgyQib4Q2gRu' }),
    ])
    expect(lines[0]).not.toHaveProperty('data')
    expect(lines[0]).not.toHaveProperty('message')
  })

  it('is summed up at most once a minute per kind, so no client can flood the log', () => {
    const { log, lines } = createMemoryLogger()
    const target = fakeConsole()
    let t = 0
    routeLibraryOutput(log, target, () => t)
    for (let i = 0; i < 1000; i++) target.log(`error waiting for ${'x'.repeat(20)}${i} to be in one of states: ready`)
    t = 61_000
    target.log('error waiting for 2JCmUx2xYMC2bcqT7cFRKfGej3zP to be in one of states: ready')
    expect(lines.map((l) => l.times)).toEqual([undefined, 1000])
  })

  it('keeps a new error apart from the garbage a client sends, so it is not buried', () => {
    const { log, lines } = createMemoryLogger()
    const target = fakeConsole()
    routeLibraryOutput(log, target, () => 0)
    for (let i = 0; i < 50; i++) target.log('error receiving message', { err: new Error('Unexpected end of CBOR data') })
    target.log('error receiving message', { err: new RangeError('Attempting to change an outdated document.') })
    expect(lines.map((l) => l.err)).toEqual(['Error: Unexpected end of CBOR data', 'RangeError: Attempting to change an outdated document.'])
  })

  it('sums up as one kind the new kinds past twenty a minute, whatever a client makes the library say', () => {
    const { log, lines } = createMemoryLogger()
    const target = fakeConsole()
    routeLibraryOutput(log, target, () => 0)
    for (let i = 0; i < 500; i++) target.log(`error receiving message`, { err: new Error(`Invalid property name ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`) })
    expect(lines).toHaveLength(21)
    expect(lines.at(-1)?.said).toBe('error receiving message')
  })

  it('puts the console back when asked', () => {
    const { log } = createMemoryLogger()
    const target = fakeConsole()
    const original = target.log
    const restore = routeLibraryOutput(log, target)
    expect(target.log).not.toBe(original)
    restore()
    expect(target.log).toBe(original)
  })

  it('counts lines about different documents as one kind', () => {
    expect(kindOf('error waiting for 2JCmUx2xYMC2bcqT7cFRKfGej3zP to be in one of states: ready')).toBe(kindOf('error waiting for KXfqUPr7kCJeTgFTTJxynDLw4zq to be in one of states: ready'))
  })
})
