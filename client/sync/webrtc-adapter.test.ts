import { next as A } from '@automerge/automerge'
import { afterEach, describe, expect, it } from 'vitest'
import { Repo, cbor } from '@automerge/automerge-repo'
import { DataChannelAdapter } from './webrtc-adapter.ts'
import { decodeCode, encodeCode, withEarlyBuffer } from './direct-link.ts'
import { splitMessage } from './chunks.ts'
import { waitFor } from '../../tests/helpers/wait-for.ts'

/** Two ends of an in-memory "data channel": what one sends, the other receives, in order. */
class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting'
  binaryType: BinaryType = 'arraybuffer'
  bufferedAmount = 0
  other?: FakeChannel
  send(data: Uint8Array) {
    const copy = data.slice().buffer
    queueMicrotask(() => this.other?.dispatchEvent(new MessageEvent('message', { data: copy })))
  }
  close() {
    if (this.readyState === 'closed') return
    this.readyState = 'closed'
    this.dispatchEvent(new Event('close'))
    this.other?.close()
  }
  static pair(): [FakeChannel, FakeChannel] {
    const a = new FakeChannel()
    const b = new FakeChannel()
    a.other = b
    b.other = a
    return [a, b]
  }
  open() {
    this.readyState = 'open'
    this.dispatchEvent(new Event('open'))
  }
}

const repos: Repo[] = []
afterEach(async () => {
  for (const r of repos.splice(0)) await r.shutdown()
})

function linked() {
  const [ca, cb] = FakeChannel.pair()
  const a = new Repo({ network: [new DataChannelAdapter(ca as never)] })
  const b = new Repo({ network: [new DataChannelAdapter(cb as never)] })
  repos.push(a, b)
  ca.open()
  cb.open()
  return { a, b, ca, cb }
}

describe('sync over a data channel', () => {
  it('syncs a document both ways, including one larger than a chunk', async () => {
    const { a, b } = linked()
    const big = 'x'.repeat(200_000)
    const doc = a.create<{ text: string; from?: string }>({ text: big })
    const seen = await b.find<{ text: string; from?: string }>(doc.url)
    expect(seen.doc().text.length).toBe(200_000)
    seen.change((d) => (d.from = 'b'))
    await waitFor(() => doc.doc().from === 'b', { message: 'a sees b’s change' })
  })

  it('cuts off a peer that sends garbage, a peer that speaks for someone else, and one that sends a sync message Automerge would panic on', async () => {
    const { a, ca, cb } = linked()
    await waitFor(() => a.peers.length > 0, { message: 'introduced' })
    const closed = new Promise((resolve) => cb.addEventListener('close', resolve))
    ca.send(splitMessage(99, new Uint8Array([1, 2, 3, 250]))[0]!)
    await closed

    const again = linked()
    await waitFor(() => again.a.peers.length > 0 && again.b.peers.length > 0, { message: 'introduced' })
    const closed2 = new Promise((resolve) => again.cb.addEventListener('close', resolve))
    const forged = cbor.encode({ type: 'sync', senderId: 'someone-else', targetId: again.b.peerId, documentId: '2j9knpCseyhnK8izDmLpGP5WMdZQ', data: new Uint8Array([1]) })
    for (const c of splitMessage(7, forged)) again.ca.send(c)
    await closed2

    // A sync message Automerge would take and then panic on (shared/sync-payload.ts), in its own name.
    const third = linked()
    await waitFor(() => third.a.peers.length > 0 && third.b.peers.length > 0, { message: 'introduced' })
    const closed3 = new Promise((resolve) => third.cb.addEventListener('close', resolve))
    const poisoned = A.encodeSyncMessage({ heads: [], need: [], have: [{ lastSync: [], bloom: Uint8Array.from([1, 0, 7]) }], changes: [] })
    const message = cbor.encode({ type: 'sync', senderId: third.a.peerId, targetId: third.b.peerId, documentId: '2j9knpCseyhnK8izDmLpGP5WMdZQ', data: poisoned })
    for (const c of splitMessage(8, message)) third.ca.send(c)
    await closed3
  })
})

describe('a channel that opens before the repo listens', () => {
  it('keeps what the other device said first, so the introduction is not lost', async () => {
    const [ca, cb] = FakeChannel.pair()
    ca.open()
    cb.open()
    const early = withEarlyBuffer(cb as never)
    let arrived = 0
    cb.addEventListener('message', () => arrived++)
    const a = new Repo({ network: [new DataChannelAdapter(ca as never)] })
    repos.push(a)
    await waitFor(() => arrived > 0, { message: 'a introduces itself' })
    const b = new Repo({ network: [new DataChannelAdapter(early as never)] })
    repos.push(b)
    await waitFor(() => b.peers.includes(a.peerId), { message: 'b knows a' })
    const doc = a.create<{ hello: string }>({ hello: 'voisin' })
    expect((await b.find<{ hello: string }>(doc.url)).doc().hello).toBe('voisin')
  })
})

describe('direct link codes', () => {
  it('round-trips an offer and refuses a code of the wrong kind or damaged', async () => {
    const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n'
    const code = await encodeCode('offer', sdp)
    expect(code.startsWith('PLC1.')).toBe(true)
    expect(await decodeCode(` ${code}\n`, 'offer')).toBe(sdp)
    await expect(decodeCode(code, 'answer')).rejects.toThrow('expected an answer code')
    await expect(decodeCode(code.slice(0, 20), 'offer')).rejects.toThrow('damaged code')
    await expect(decodeCode('hello', 'offer')).rejects.toThrow('not a Placette code')
  })
})
