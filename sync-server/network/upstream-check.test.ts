import { next as A } from '@automerge/automerge'
import { cbor, generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo'
import { describe, expect, it } from 'vitest'
import { CloseCode, type PeerIdString } from '../../shared/protocol.ts'
import { checkUpstreamFrame } from './upstream-check.ts'

const ME = 'relay-hall' as PeerIdString
const UP = 'relay-region' as PeerIdString
const docId = (): string => parseAutomergeUrl(generateAutomergeUrl()).documentId
const syncData = () => A.generateSyncMessage(A.from({ a: 1 }), A.initSyncState())[1] as Uint8Array
const peer = { type: 'peer', senderId: UP, targetId: ME, peerMetadata: { storageId: 's', isEphemeral: false }, selectedProtocolVersion: '1' }
const sync = (over: Record<string, unknown> = {}) => ({ type: 'sync', senderId: UP, targetId: ME, documentId: docId(), data: syncData(), ...over })
/** Checks a frame on a socket whose upstream answered our join as UP. */
const check = (value: unknown) => checkUpstreamFrame(cbor.encode(value), true, ME, UP)
/** Checks a frame on a socket whose upstream has not answered our join yet. */
const early = (value: unknown) => checkUpstreamFrame(cbor.encode(value), true, ME, undefined)

describe('checkUpstreamFrame', () => {
  it('accepts the peer answer, then document messages from the upstream to us', () => {
    expect(early(peer)).toMatchObject({ ok: true, message: { type: 'peer', senderId: UP } })
    expect(check(sync())).toMatchObject({ ok: true, message: { type: 'sync' } })
    expect(check({ type: 'doc-unavailable', senderId: UP, targetId: ME, documentId: docId() })).toMatchObject({ ok: true })
    expect(early({ type: 'error', senderId: UP, targetId: ME, message: 'unsupported protocol version' })).toMatchObject({ ok: true })
  })

  it('refuses bytes that are not CBOR, and text frames, as malformed', () => {
    expect(checkUpstreamFrame(new Uint8Array([0xff, 0xfe, 0x00]), true, ME, UP)).toMatchObject({ ok: false, code: CloseCode.malformed })
    expect(checkUpstreamFrame(cbor.encode(sync()), false, ME, UP)).toMatchObject({ ok: false, code: CloseCode.malformed })
    expect(check(sync({ data: new Uint8Array([1, 2, 3]) }))).toMatchObject({ ok: false, code: CloseCode.malformed })
    // A sync message Automerge would take and then panic on (shared/sync-payload.ts).
    const poisoned = A.encodeSyncMessage({ ...A.decodeSyncMessage(syncData()), have: [{ lastSync: [], bloom: Uint8Array.from([1, 0, 7]) }] })
    expect(check(sync({ data: poisoned }))).toMatchObject({ ok: false, code: CloseCode.malformed, detail: 'sync payload has a Bloom filter with entries but no bits' })
  })

  it('refuses document messages before the peer answer, from anyone but the upstream, or with a bad document ID', () => {
    expect(early(sync())).toMatchObject({ ok: false, code: CloseCode.protocol, detail: 'sync before peer' })
    expect(check(sync({ senderId: 'peer-phone' }))).toMatchObject({ ok: false, code: CloseCode.protocol })
    expect(check(sync({ documentId: '2jZzs4tR7Ev8Pn9cQwBNaZkdNcHk' }))).toMatchObject({ ok: false, detail: 'documentId fails its checksum' })
    expect(check({ hello: 'world' })).toMatchObject({ ok: false, code: CloseCode.protocol })
  })

  it('refuses a peer answer for someone else, from ourselves, or naming another upstream on the same socket', () => {
    expect(early({ ...peer, targetId: 'relay-other' })).toMatchObject({ ok: false })
    expect(early({ ...peer, senderId: ME })).toMatchObject({ ok: false, detail: 'the upstream is this relay itself' })
    expect(check({ ...peer, senderId: 'relay-impostor' })).toMatchObject({ ok: false })
  })

  it('ignores presence (its sender IDs are the upstream\'s clients) and messages meant for another peer', () => {
    expect(check({ ...sync({ senderId: 'peer-phone' }), type: 'ephemeral', count: 1, sessionId: 'x' })).toMatchObject({ ok: 'ignore' })
    expect(check(sync({ targetId: 'relay-earlier-run' }))).toMatchObject({ ok: 'ignore' })
    expect(check({ type: 'remote-heads-changed', senderId: UP, targetId: ME })).toMatchObject({ ok: 'ignore' })
  })
})
