/**
 * Two devices, no server: one shows an offer code (as a QR code, or text to copy), the other answers
 * with its own code, and a WebRTC data channel opens between them on the local network. No STUN or
 * TURN servers: there is no internet to reach them, and on the same Wi-Fi host candidates suffice.
 * A code is `PLC1.` + base64url(deflate-raw(JSON { k: 'offer' | 'answer', sdp })).
 */
const PREFIX = 'PLC1.'
const ICE_GATHER_MS = 4000

export type CodeKind = 'offer' | 'answer'

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream)).arrayBuffer())
}

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const fromBase64Url = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))

export async function encodeCode(kind: CodeKind, sdp: string): Promise<string> {
  return PREFIX + toBase64Url(await pipe(new TextEncoder().encode(JSON.stringify({ k: kind, sdp })), new CompressionStream('deflate-raw')))
}

/** Reads a code typed, pasted or scanned; throws a plain Error saying what is wrong with it. */
export async function decodeCode(code: string, expected: CodeKind): Promise<string> {
  const text = code.trim().replace(/\s+/g, '')
  if (!text.startsWith(PREFIX)) throw new Error('not a Placette code')
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(await pipe(fromBase64Url(text.slice(PREFIX.length)), new DecompressionStream('deflate-raw'))))
  } catch {
    throw new Error('damaged code')
  }
  const v = value as { k?: unknown; sdp?: unknown }
  if (v.k !== expected) throw new Error(`expected an ${expected} code`)
  if (typeof v.sdp !== 'string' || !v.sdp.startsWith('v=0') || v.sdp.length > 20_000) throw new Error('damaged code')
  return v.sdp
}

/** Waits until every local candidate is in the description (no trickle: the code is all there is). */
function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener('icegatheringstatechange', check)
      resolve()
    }
    const check = () => pc.iceGatheringState === 'complete' && done()
    pc.addEventListener('icegatheringstatechange', check)
    setTimeout(done, ICE_GATHER_MS)
  })
}

/**
 * The other device may speak as soon as the channel opens, before this device's repo has attached its
 * adapter (loaded lazily): keep what arrives until then.
 */
export function withEarlyBuffer(channel: RTCDataChannel): RTCDataChannel & { takeEarly(): unknown[] } {
  const early: unknown[] = []
  const keep = (e: MessageEvent) => early.push(e.data)
  channel.binaryType = 'arraybuffer'
  channel.addEventListener('message', keep)
  return Object.assign(channel, {
    takeEarly() {
      channel.removeEventListener('message', keep)
      return early.splice(0)
    },
  })
}

export interface DirectLink {
  pc: RTCPeerConnection
  channel: Promise<RTCDataChannel>
  /** The code to show the other device. */
  code: string
}

/** The first device: makes an offer; `complete(answerCode)` when the other device has answered. */
export async function startOffer(): Promise<DirectLink & { complete(answer: string): Promise<void> }> {
  const pc = new RTCPeerConnection({ iceServers: [] })
  const dc = withEarlyBuffer(pc.createDataChannel('placette', { ordered: true }))
  await pc.setLocalDescription(await pc.createOffer())
  await gathered(pc)
  return {
    pc,
    channel: Promise.resolve(dc),
    code: await encodeCode('offer', pc.localDescription!.sdp),
    async complete(answer: string) {
      await pc.setRemoteDescription({ type: 'answer', sdp: await decodeCode(answer, 'answer') })
    },
  }
}

/** The second device: answers an offer code; the channel arrives once the first device completes. */
export async function answerOffer(offer: string): Promise<DirectLink> {
  const sdp = await decodeCode(offer, 'offer')
  const pc = new RTCPeerConnection({ iceServers: [] })
  const channel = new Promise<RTCDataChannel>((resolve) => pc.addEventListener('datachannel', (e) => resolve(withEarlyBuffer(e.channel)), { once: true }))
  await pc.setRemoteDescription({ type: 'offer', sdp })
  await pc.setLocalDescription(await pc.createAnswer())
  await gathered(pc)
  return { pc, channel, code: await encodeCode('answer', pc.localDescription!.sdp) }
}
