import 'fake-indexeddb/auto'
import { afterEach, describe, expect, it } from 'vitest'
import { openDb, type PlacetteDb } from '../db/db.ts'
import { randomId } from '../../shared/ids.ts'
import { TICKET_TTL_MS } from '../../shared/relay-auth.ts'
import { relayTickets } from './sign-in.ts'

let db: PlacetteDb | undefined
afterEach(() => db?.close())

describe('the relay ticket kept between starts', () => {
  it('is given back until a relay takes it, and not in the last minutes of its hour', async () => {
    db = openDb(`test-${randomId()}`)
    const clock = { now: 1_000_000 }
    const tickets = relayTickets(db, () => clock.now)
    expect(await tickets.kept()).toBeUndefined()
    await tickets.keep('t.one')
    // Read again by a start cut short: still there.
    expect(await tickets.kept()).toBe('t.one')
    expect(await relayTickets(db, () => clock.now).kept()).toBe('t.one')
    // Spent: forgotten, but only if it is still the one kept.
    await tickets.keep('t.two')
    await tickets.spent('t.one')
    expect(await tickets.kept()).toBe('t.two')
    await tickets.spent('t.two')
    expect(await tickets.kept()).toBeUndefined()
    // Near the end of its hour it would be refused: not offered.
    await tickets.keep('t.three')
    clock.now += TICKET_TTL_MS - 60_000
    expect(await tickets.kept()).toBeUndefined()
  })
})
