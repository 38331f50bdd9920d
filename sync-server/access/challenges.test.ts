import { describe, expect, it } from 'vitest'
import { CHALLENGE_TTL_MS, Challenges } from './challenges.ts'
import { TICKET_TTL_MS } from '../../shared/relay-auth.ts'

function clocked() {
  const clock = { now: 1_800_000_000_000 }
  return { challenges: new Challenges(() => clock.now), clock }
}

describe('Challenges', () => {
  it('takes a challenge once, within two minutes', () => {
    const { challenges, clock } = clocked()
    const c = challenges.issue()
    expect(challenges.consume(c)).toBe(true)
    expect(challenges.consume(c)).toBe(false)
    const late = challenges.issue()
    clock.now += CHALLENGE_TTL_MS + 1
    expect(challenges.consume(late)).toBe(false)
  })

  it('refuses a forged or altered challenge, and one from another relay', () => {
    const { challenges } = clocked()
    const c = challenges.issue()
    const [time, nonce, mac] = c.split('.')
    expect(challenges.consume(`${time}.${nonce}x.${mac}`)).toBe(false)
    expect(challenges.consume(`${time}.${nonce}`)).toBe(false)
    expect(challenges.consume(`${c}.extra`)).toBe(false)
    expect(new Challenges().consume(new Challenges().issue())).toBe(false)
  })

  it('takes a ticket once, from the member it was given to, within the hour', () => {
    const { challenges, clock } = clocked()
    const ticket = challenges.issueTicket('mAlice')
    expect(challenges.consume(ticket, 'mBob')).toBe(false)
    expect(challenges.consume(ticket)).toBe(false)
    clock.now += TICKET_TTL_MS - 1000
    expect(challenges.consume(ticket, 'mAlice')).toBe(true)
    expect(challenges.consume(ticket, 'mAlice')).toBe(false)
    const late = challenges.issueTicket('mAlice')
    clock.now += TICKET_TTL_MS + 1
    expect(challenges.consume(late, 'mAlice')).toBe(false)
  })

  it('does not take a challenge dressed as a ticket, nor a ticket stripped to a challenge', () => {
    const { challenges } = clocked()
    const c = challenges.issue()
    expect(challenges.consume(`t.${c}`, 'mAlice')).toBe(false)
    const ticket = challenges.issueTicket('mAlice')
    expect(challenges.consume(ticket.slice(2), 'mAlice')).toBe(false)
    expect(challenges.consume(ticket.slice(2))).toBe(false)
  })

  it('forgets used challenges once they have expired', () => {
    const { challenges, clock } = clocked()
    for (let i = 0; i < 100; i++) expect(challenges.consume(challenges.issueTicket('mAlice'), 'mAlice')).toBe(true)
    clock.now += TICKET_TTL_MS + 2000
    expect(challenges.consume(challenges.issue())).toBe(true)
    expect(challenges.remembered).toBe(1)
  })
})
