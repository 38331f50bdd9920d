import { describe, expect, it } from 'vitest'
import { addressTo, type DeviceId, type LinkId, type SignalSelf } from '../../shared/direct-signal.ts'
import { newMemberId } from '../../shared/ids.ts'
import { ASK_TIMEOUT_MS, LINK_TIMEOUT_MS, PRESENCE_TTL_MS, PresenceBook, step, type SessionEvent, type SessionState } from './direct-session.ts'

const nadia: SignalSelf = { member: newMemberId(), device: 'device-nadia' as DeviceId }
const paul: SignalSelf = { member: newMemberId(), device: 'device-paul' as DeviceId }
const link = 'LinkAAAAAAAA' as LinkId
const sdp = 'v=0\r\n'

/** Runs events through the machine from idle; returns the last state and every effect. */
function run(me: SignalSelf, events: SessionEvent[], from: SessionState = { step: 'idle' }) {
  let state = from
  const effects = []
  for (const event of events) {
    const next = step(me, state, event)
    state = next.state
    effects.push(...next.effects)
  }
  return { state, effects }
}

describe('linking two devices through the relay', () => {
  it('goes from asking to connected on both sides, with the asker offering', () => {
    const a1 = run(nadia, [{ kind: 'ask', peer: paul, link, now: 0 }])
    expect(a1.state).toMatchObject({ step: 'asking', peer: paul })
    const ask = a1.effects[0]
    expect(ask).toEqual({ do: 'send', message: addressTo('direct-ask', nadia, paul, link, {}) })

    const b1 = run(paul, [{ kind: 'message', message: addressTo('direct-ask', nadia, paul, link, {}), now: 1 }])
    expect(b1.state).toMatchObject({ step: 'asked', peer: nadia })
    expect(b1.effects).toEqual([])
    const b2 = run(paul, [{ kind: 'accept', now: 2 }], b1.state)
    expect(b2.state).toMatchObject({ step: 'linking', role: 'answerer' })
    expect(b2.effects).toEqual([{ do: 'send', message: addressTo('direct-reply', paul, nadia, link, { answer: 'yes' }) }])

    const a2 = run(nadia, [{ kind: 'message', message: addressTo('direct-reply', paul, nadia, link, { answer: 'yes' }), now: 3 }], a1.state)
    expect(a2.state).toMatchObject({ step: 'linking', role: 'offerer' })
    expect(a2.effects).toEqual([{ do: 'offer', peer: paul, link }])

    const b3 = run(paul, [{ kind: 'message', message: addressTo('direct-offer', nadia, paul, link, { sdp }), now: 4 }], b2.state)
    expect(b3.effects).toEqual([{ do: 'answer', peer: nadia, link, sdp }])
    const candidate = { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }
    const a3 = run(
      nadia,
      [
        { kind: 'message', message: addressTo('direct-answer', paul, nadia, link, { sdp }), now: 5 },
        { kind: 'message', message: addressTo('direct-ice', paul, nadia, link, { candidate }), now: 5 },
        { kind: 'open', now: 6 },
      ],
      a2.state,
    )
    expect(a3.effects).toEqual([{ do: 'remote-answer', sdp }, { do: 'ice', candidate }])
    expect(a3.state).toEqual({ step: 'connected', peer: paul, link, since: 6 })
  })

  it('tells the asker no when the person declines, and the asker shows it', () => {
    const b = run(paul, [{ kind: 'message', message: addressTo('direct-ask', nadia, paul, link, {}), now: 0 }, { kind: 'decline' }])
    expect(b.state).toEqual({ step: 'idle' })
    expect(b.effects).toEqual([{ do: 'send', message: addressTo('direct-reply', paul, nadia, link, { answer: 'no' }) }])
    const a = run(nadia, [{ kind: 'ask', peer: paul, link, now: 0 }, { kind: 'message', message: addressTo('direct-reply', paul, nadia, link, { answer: 'no' }), now: 1 }])
    expect(a.state).toEqual({ step: 'ended', peer: paul, why: 'declined' })
  })

  it('answers busy to a second device while a link is under way', () => {
    const other: SignalSelf = { member: newMemberId(), device: 'device-other' as DeviceId }
    const otherLink = 'LinkBBBBBBBB' as LinkId
    const b = run(paul, [
      { kind: 'message', message: addressTo('direct-ask', nadia, paul, link, {}), now: 0 },
      { kind: 'message', message: addressTo('direct-ask', other, paul, otherLink, {}), now: 1 },
    ])
    expect(b.state).toMatchObject({ step: 'asked', peer: nadia })
    expect(b.effects).toEqual([{ do: 'send', message: addressTo('direct-reply', paul, other, otherLink, { answer: 'busy' }) }])
  })

  it('ignores messages of another attempt or from another device', () => {
    const a = run(nadia, [{ kind: 'ask', peer: paul, link, now: 0 }])
    const intruder: SignalSelf = { member: newMemberId(), device: 'device-intruder' as DeviceId }
    const stray = run(
      nadia,
      [
        { kind: 'message', message: addressTo('direct-reply', intruder, nadia, link, { answer: 'yes' }), now: 1 },
        { kind: 'message', message: addressTo('direct-reply', paul, nadia, 'LinkOTHERxxx' as LinkId, { answer: 'yes' }), now: 1 },
        { kind: 'message', message: addressTo('direct-answer', paul, nadia, link, { sdp }), now: 1 },
      ],
      a.state,
    )
    expect(stray.state).toEqual(a.state)
    expect(stray.effects).toEqual([])
  })

  it('when both ask each other at once, the same question goes ahead on both sides', () => {
    const small = 'LinkAAAAAAAA' as LinkId
    const big = 'LinkZZZZZZZZ' as LinkId
    const a = run(nadia, [{ kind: 'ask', peer: paul, link: small, now: 0 }, { kind: 'message', message: addressTo('direct-ask', paul, nadia, big, {}), now: 1 }])
    const b = run(paul, [{ kind: 'ask', peer: nadia, link: big, now: 0 }, { kind: 'message', message: addressTo('direct-ask', nadia, paul, small, {}), now: 1 }])
    expect(a.state).toMatchObject({ step: 'asking', link: small })
    expect(b.state).toMatchObject({ step: 'linking', link: small, role: 'answerer' })
  })

  it('gives up when nobody answers or WebRTC does not connect, and says so to the other side', () => {
    const a = run(nadia, [{ kind: 'ask', peer: paul, link, now: 0 }, { kind: 'tick', now: ASK_TIMEOUT_MS + 1 }])
    expect(a.state).toEqual({ step: 'ended', peer: paul, why: 'no-answer' })
    expect(a.effects.at(-1)).toEqual({ do: 'send', message: addressTo('direct-end', nadia, paul, link, {}) })
    const linking: SessionState = { step: 'linking', peer: paul, link, since: 0, role: 'offerer' }
    expect(run(nadia, [{ kind: 'tick', now: LINK_TIMEOUT_MS - 1 }], linking).state).toBe(linking)
    const failed = run(nadia, [{ kind: 'tick', now: LINK_TIMEOUT_MS + 1 }], linking)
    expect(failed.state).toEqual({ step: 'ended', peer: paul, why: 'failed' })
    expect(failed.effects).toContainEqual({ do: 'close' })
  })

  it('ends the link when the other side ends it or the channel is lost', () => {
    const connected: SessionState = { step: 'connected', peer: paul, link, since: 0 }
    expect(run(nadia, [{ kind: 'message', message: addressTo('direct-end', paul, nadia, link, {}), now: 1 }], connected)).toEqual({
      state: { step: 'ended', peer: paul, why: 'closed' },
      effects: [{ do: 'close' }],
    })
    expect(run(nadia, [{ kind: 'lost' }], connected).state).toEqual({ step: 'ended', peer: paul, why: 'closed' })
    const stopped = run(nadia, [{ kind: 'stop' }], connected)
    expect(stopped.state).toEqual({ step: 'idle' })
    expect(stopped.effects).toEqual([{ do: 'send', message: addressTo('direct-end', nadia, paul, link, {}) }, { do: 'close' }])
  })

  it('does not ask itself', () => {
    expect(run(nadia, [{ kind: 'ask', peer: nadia, link, now: 0 }]).state).toEqual({ step: 'idle' })
  })
})

describe('who is connected now', () => {
  it('lists each other member once, with the device heard last, until it goes quiet', () => {
    const book = new PresenceBook()
    const paulTab = { member: paul.member, device: 'device-paul-2' as DeviceId }
    expect(book.see(paul, 0)).toBe(true)
    expect(book.see(paul, 1000)).toBe(false)
    book.see(paulTab, 2000)
    book.see(nadia, 2000)
    expect(book.here(3000, nadia.member)).toEqual([paulTab])
    expect(book.here(2000 + PRESENCE_TTL_MS + 1, nadia.member)).toEqual([])
    expect(book.see(paul, 2000 + PRESENCE_TTL_MS + 2)).toBe(true)
  })
})
