import { describe, expect, it } from 'vitest'
import { addressTo, hereMessage, readSignal, type DeviceId, type LinkId, type SignalSelf } from './direct-signal.ts'
import { newMemberId } from './ids.ts'

const nadia: SignalSelf = { member: newMemberId(), device: 'device-nadia' as DeviceId }
const paul: SignalSelf = { member: newMemberId(), device: 'device-paul' as DeviceId }
const link = 'Lk3xQ9abcdEF' as LinkId
const offerSdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n'

describe('signalling messages', () => {
  it('accepts presence from any device, and a message addressed to this device', () => {
    expect(readSignal(hereMessage(nadia, true), nadia.device, paul)).toEqual({ ok: true, message: hereMessage(nadia, true) })
    const ask = addressTo('direct-ask', nadia, paul, link, {})
    expect(readSignal(ask, nadia.device, paul)).toEqual({ ok: true, message: ask })
    const offer = addressTo('direct-offer', nadia, paul, link, { sdp: offerSdp })
    expect(readSignal(offer, nadia.device, paul)).toMatchObject({ ok: true, message: { type: 'direct-offer', sdp: offerSdp } })
    const ice = addressTo('direct-ice', nadia, paul, link, { candidate: { candidate: 'candidate:1 1 udp 1 192.168.1.2 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } })
    expect(readSignal(ice, nadia.device, paul).ok).toBe(true)
  })

  it('ignores a message addressed to another member or another device of the same member', () => {
    const someoneElse: SignalSelf = { member: newMemberId(), device: 'device-other' as DeviceId }
    const ask = addressTo('direct-ask', nadia, someoneElse, link, {})
    expect(readSignal(ask, nadia.device, paul)).toEqual({ ok: false, why: 'not-for-me' })
    const otherTab = addressTo('direct-ask', nadia, { member: paul.member, device: 'device-paul-tab2' as DeviceId }, link, {})
    expect(readSignal(otherTab, nadia.device, paul)).toEqual({ ok: false, why: 'not-for-me' })
  })

  it('refuses a message whose sender device is not the peer that sent it', () => {
    const forged = addressTo('direct-reply', nadia, paul, link, { answer: 'yes' })
    expect(readSignal(forged, 'device-mallory', paul)).toEqual({ ok: false, why: 'spoofed' })
  })

  it('ignores its own messages echoed back', () => {
    expect(readSignal(hereMessage(paul, false), paul.device, paul)).toEqual({ ok: false, why: 'own' })
  })

  it('drops malformed messages', () => {
    const ask = addressTo('direct-ask', nadia, paul, link, {})
    const cases: unknown[] = [
      { ...ask, v: 2 },
      { ...ask, from: 'not-a-member' },
      { ...ask, link: 'x' },
      { ...ask, toDevice: 'has space' },
      { ...addressTo('direct-reply', nadia, paul, link, { answer: 'yes' }), answer: 'maybe' },
      addressTo('direct-offer', nadia, paul, link, { sdp: 'hello' }),
      addressTo('direct-offer', nadia, paul, link, { sdp: 'v=0' + 'a'.repeat(20_000) }),
      { ...addressTo('direct-ice', nadia, paul, link, { candidate: { candidate: 'c', sdpMid: null, sdpMLineIndex: null } }), candidate: { candidate: 7 } },
      { type: 'direct-nonsense', v: 1, from: nadia.member, fromDevice: nadia.device },
      { type: 'direct-here', v: 1, from: nadia.member, fromDevice: nadia.device },
    ]
    for (const value of cases) expect(readSignal(value, nadia.device, paul)).toEqual({ ok: false, why: 'malformed' })
  })

  it('leaves other ephemeral messages alone', () => {
    for (const value of [null, 42, 'text', { type: 'presence' }, {}]) expect(readSignal(value, nadia.device, paul)).toEqual({ ok: false, why: 'not-signal' })
  })
})
