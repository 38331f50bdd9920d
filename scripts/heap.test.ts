import { describe, expect, it } from 'vitest'
import { DEFAULT_HEAP_MB, relayHeapFlags } from './heap.mjs'

describe('the relay’s heap cap', () => {
  it('caps the old generation by default, as PLACETTE_HEAP_MB says, or not at all with 0', () => {
    expect(relayHeapFlags({})).toEqual([`--max-old-space-size=${DEFAULT_HEAP_MB}`])
    expect(relayHeapFlags({ PLACETTE_HEAP_MB: '1024' })).toEqual(['--max-old-space-size=1024'])
    expect(relayHeapFlags({ PLACETTE_HEAP_MB: '0' })).toEqual([])
  })

  it('leaves a cap given in NODE_OPTIONS alone', () => {
    expect(relayHeapFlags({ NODE_OPTIONS: '--enable-source-maps --max-old-space-size=512', PLACETTE_HEAP_MB: '300' })).toEqual([])
  })

  it('says what is wrong with a value it cannot use', () => {
    expect(() => relayHeapFlags({ PLACETTE_HEAP_MB: '32' })).toThrow('PLACETTE_HEAP_MB must be 0 (V8’s default) or a number of megabytes from 64, got "32"')
    expect(() => relayHeapFlags({ PLACETTE_HEAP_MB: 'beaucoup' })).toThrow(/got "beaucoup"/)
  })
})
