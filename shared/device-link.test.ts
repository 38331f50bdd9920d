import { describe, expect, it } from 'vitest'
import { generateMemberKeys, memberIdFor } from './identity.ts'
import { createDeviceLink, DEVICE_LINK_TTL_MS, readDeviceLink } from './device-link.ts'
import type { DocUrl } from './ids.ts'

describe('device links', () => {
  const keys = generateMemberKeys()
  const link = { id: memberIdFor(keys.publicKey), keys, displayName: 'Denise', neighbourhood: 'automerge:2VqxRMeaSnHUVbLaX2bC7ZS6kD7e' as DocUrl, feed: 'automerge:3VqxRMeaSnHUVbLaX2bC7ZS6kD7e' as DocUrl }

  it('carries the member to another device', () => {
    const read = readDeviceLink(createDeviceLink(link, 1000), 2000)
    expect(read).toMatchObject({ id: link.id, displayName: 'Denise', neighbourhood: link.neighbourhood, feed: link.feed })
    expect(read.keys.publicKey).toEqual(keys.publicKey)
  })

  it('refuses an old or damaged code', () => {
    const token = createDeviceLink(link, 1000)
    expect(() => readDeviceLink(token, 1000 + DEVICE_LINK_TTL_MS + 1)).toThrow(/too old/)
    expect(() => readDeviceLink(token.slice(0, -5), 2000)).toThrow(/damaged/)
    expect(() => readDeviceLink('bm90IGpzb24', 2000)).toThrow(/damaged/)
  })
})
