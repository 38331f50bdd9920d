import { describe, expect, it } from 'vitest'
import { Reassembler, splitMessage } from './chunks.ts'

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31) % 251)

describe('data channel chunks', () => {
  it('splits and reassembles messages of every size, interleaved', () => {
    const r = new Reassembler()
    const a = bytes(100_000)
    const b = bytes(10)
    const empty = new Uint8Array(0)
    const fa = splitMessage(1, a, 4096)
    const fb = splitMessage(2, b, 4096)
    const fe = splitMessage(3, empty, 4096)
    expect(fa).toHaveLength(25)
    const out: Uint8Array[] = []
    for (const frame of [fa[0]!, fb[0]!, ...fa.slice(1), fe[0]!]) {
      const whole = r.push(frame)
      if (whole) out.push(whole)
    }
    expect(out).toEqual([b, a, empty])
  })

  it('refuses frames that make no sense rather than build garbage', () => {
    const r = new Reassembler()
    expect(() => r.push(new Uint8Array(5))).toThrow('chunk too short')
    const [first, second] = splitMessage(9, bytes(10_000), 4096)
    expect(() => r.push(second!)).toThrow('out of order')
    r.push(first!)
    expect(() => r.push(first!)).toThrow('out of order')
    const bogus = new Uint8Array(12)
    new DataView(bogus.buffer).setUint32(8, 0)
    expect(() => r.push(bogus)).toThrow('bad chunk header')
  })
})
