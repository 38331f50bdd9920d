import { next as A } from '@automerge/automerge'
import { cbor, generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo'
import { describe, expect, it } from 'vitest'
import { CloseCode, type PeerIdString } from '../../shared/protocol.ts'
import { checkFrame } from './frame-check.ts'

const ME = 'peer-alice' as PeerIdString
const RELAY = 'relay-abc' as PeerIdString
const docId = (): string => parseAutomergeUrl(generateAutomergeUrl()).documentId

function syncData(): Uint8Array {
  const [, message] = A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())
  return message as Uint8Array
}

const join = { type: 'join', senderId: ME, peerMetadata: { isEphemeral: true }, supportedProtocolVersions: ['1'] }
const sync = () => ({ type: 'sync', senderId: ME, targetId: RELAY, documentId: docId(), data: syncData() })

describe('checkFrame', () => {
  it('accepts a join, then document messages from the joined peer', () => {
    expect(checkFrame(cbor.encode(join), true, undefined)).toMatchObject({ ok: true, message: { type: 'join', senderId: ME } })
    expect(checkFrame(cbor.encode(sync()), true, ME)).toMatchObject({ ok: true, message: { type: 'sync' } })
    expect(checkFrame(cbor.encode({ ...sync(), type: 'request' }), true, ME)).toMatchObject({ ok: true })
    const unavailable = { type: 'doc-unavailable', senderId: ME, targetId: RELAY, documentId: docId() }
    expect(checkFrame(cbor.encode(unavailable), true, ME)).toMatchObject({ ok: true })
  })

  it('refuses bytes that are not CBOR as malformed', () => {
    expect(checkFrame(new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0x13]), true, undefined)).toMatchObject({ ok: false, code: CloseCode.malformed, reason: 'malformed-frame' })
    expect(checkFrame(new Uint8Array(0), true, undefined)).toMatchObject({ ok: false, code: CloseCode.malformed })
  })

  it('refuses a text frame', () => {
    expect(checkFrame(new TextEncoder().encode('{"type":"join"}'), false, undefined)).toMatchObject({ ok: false, code: CloseCode.malformed })
  })

  it('refuses CBOR that is not a protocol message', () => {
    for (const value of [{ hello: 'world' }, 42, 'join', [join], { ...join, type: 'launch-missiles' }, { ...join, senderId: 'a/b' }]) {
      expect(checkFrame(cbor.encode(value), true, undefined), JSON.stringify(value)).toMatchObject({ ok: false, code: CloseCode.protocol, reason: 'protocol-violation' })
    }
  })

  it('refuses a document message before join', () => {
    expect(checkFrame(cbor.encode(sync()), true, undefined)).toMatchObject({ ok: false, code: CloseCode.protocol, detail: 'sync before join' })
  })

  it('refuses a message whose sender is not the joined peer', () => {
    const forged = { ...sync(), senderId: 'peer-mallory' }
    expect(checkFrame(cbor.encode(forged), true, ME)).toMatchObject({ ok: false, code: CloseCode.protocol })
    expect(checkFrame(cbor.encode({ ...join, senderId: 'peer-mallory' }), true, ME)).toMatchObject({ ok: false, code: CloseCode.protocol })
  })

  it('refuses a sync message whose payload is not an Automerge sync message', () => {
    const bad = { ...sync(), data: new Uint8Array([1, 2, 3, 4]) }
    expect(checkFrame(cbor.encode(bad), true, ME)).toMatchObject({ ok: false, code: CloseCode.malformed })
  })

  it('refuses a sync message Automerge would accept and then panic on (a Bloom filter with entries and no bits)', () => {
    const decoded = A.decodeSyncMessage(sync().data)
    const poisoned = A.encodeSyncMessage({ ...decoded, have: [{ lastSync: [], bloom: Uint8Array.from([1, 0, 7]) }] })
    expect(checkFrame(cbor.encode({ ...sync(), data: poisoned }), true, ME)).toMatchObject({ ok: false, code: CloseCode.malformed, detail: 'sync payload has a Bloom filter with entries but no bits' })
  })

  it('takes presence whose payload is CBOR, and refuses presence that is not', () => {
    const ephemeral = (data: Uint8Array) => ({ type: 'ephemeral', senderId: ME, targetId: RELAY, documentId: docId(), count: 1, sessionId: 's1', data })
    expect(checkFrame(cbor.encode(ephemeral(cbor.encode({ v: 1, type: 'direct-offer' }))), true, ME)).toMatchObject({ ok: true })
    expect(checkFrame(cbor.encode(ephemeral(Uint8Array.from([0x1c, 1, 2]))), true, ME)).toMatchObject({ ok: false, code: CloseCode.malformed, detail: 'ephemeral payload is not CBOR' })
  })

  it('refuses a document ID that fails its checksum', () => {
    const id = docId()
    const flipped = id.slice(0, -1) + (id.endsWith('2') ? '3' : '2')
    expect(checkFrame(cbor.encode({ ...sync(), documentId: flipped }), true, ME)).toMatchObject({ ok: false, code: CloseCode.protocol })
  })

  it('never throws, whatever the bytes', () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256))
      // Half the time, start like a CBOR map so the decoder goes deeper.
      if (i % 2 === 0) bytes[0] = 0xa0 + (bytes[0] as number) % 8
      const verdict = checkFrame(bytes, true, i % 3 === 0 ? ME : undefined)
      expect(verdict.ok).toBe(false)
    }
  })
})
