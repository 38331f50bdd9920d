import { describe, expect, it } from 'vitest'
import { pickEncoding, safePath } from './static.ts'

describe('safePath', () => {
  it('keeps ordinary paths', () => {
    expect(safePath('/')).toBe('/')
    expect(safePath('/assets/index-abc.js?v=1')).toBe('/assets/index-abc.js')
    expect(safePath('/join/x%20y')).toBe('/join/x y')
  })

  it('never climbs above the root', () => {
    for (const url of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/a/..%2f..%2f..%2fetc/passwd']) {
      const path = safePath(url)
      expect(path === undefined || (typeof path === 'string' && !path.includes('..') && path.startsWith('/')), url).toBe(true)
    }
  })

  it('refuses hidden files, backslashes, NUL bytes and undecodable paths', () => {
    expect(safePath('/.env')).toBeUndefined()
    expect(safePath('/.git/config')).toBeUndefined()
    expect(safePath('/..%5c..%5cwindows')).toBeUndefined()
    expect(safePath('/a%00.js')).toBe('bad-request')
    expect(safePath('/%E0%A4%A')).toBe('bad-request')
  })
})

describe('pickEncoding', () => {
  it('prefers brotli, then gzip, and respects q=0', () => {
    expect(pickEncoding('gzip, deflate, br')).toBe('br')
    expect(pickEncoding('gzip')).toBe('gzip')
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip')
    expect(pickEncoding('identity')).toBeUndefined()
    expect(pickEncoding(undefined)).toBeUndefined()
  })
})
