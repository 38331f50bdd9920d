import { describe, expect, it } from 'vitest'
import type { MemberId } from '../../shared/ids.ts'
import { createMemoryLogger } from '../log.ts'
import { MemoryStorage } from '../storage/memory-storage.ts'
import { Gate, type Session } from './gate.ts'

const session = (): Session => ({ id: 'm-unit' as MemberId, peer: 'device-a', trusted: true, neighbourhoods: [], invitations: [] })

describe('Gate sessions', () => {
  it('forgets a socket’s session only while it is the peer’s current one', async () => {
    const gate = new Gate({ log: createMemoryLogger().log, storage: new MemoryStorage() })
    const old = session()
    const fresh = session()
    gate.bind(old)
    // The device reconnected: its new socket signed in before the old one's close arrived.
    gate.bind(fresh)
    gate.unbind(old)
    expect(gate.sessionOf('device-a')).toBe(fresh)
    expect(await gate.mayRead('device-a', 'anything')).toBe(true)
    gate.unbind(fresh)
    expect(gate.sessionOf('device-a')).toBeUndefined()
    expect(await gate.mayRead('device-a', 'anything')).toBe(false)
  })
})
