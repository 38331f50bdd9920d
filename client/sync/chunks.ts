/**
 * Splits messages into chunks a WebRTC data channel accepts (browsers cap a message at 64–256 KB;
 * an Automerge sync message for a whole neighbourhood can be megabytes) and puts them back together.
 * Frame: 4-byte message number, 4-byte chunk index, 4-byte chunk count, then the bytes.
 */
export const CHUNK_BYTES = 16 * 1024
const HEADER = 12
/** A message larger than this is refused on receipt (the relay's frame cap is 8 MiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

export function splitMessage(id: number, bytes: Uint8Array, chunkBytes = CHUNK_BYTES): Uint8Array[] {
  const count = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes))
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const part = bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes)
    const frame = new Uint8Array(HEADER + part.byteLength)
    const view = new DataView(frame.buffer)
    view.setUint32(0, id >>> 0)
    view.setUint32(4, i)
    view.setUint32(8, count)
    frame.set(part, HEADER)
    out.push(frame)
  }
  return out
}

/** Reassembles chunks in order of arrival per message (a data channel is ordered and reliable). */
export class Reassembler {
  #parts = new Map<number, { count: number; chunks: Uint8Array[]; size: number }>()

  /** Returns the whole message when its last chunk arrives; throws on a frame that makes no sense. */
  push(frame: Uint8Array): Uint8Array | undefined {
    if (frame.byteLength < HEADER) throw new Error('chunk too short')
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
    const id = view.getUint32(0)
    const index = view.getUint32(4)
    const count = view.getUint32(8)
    if (count === 0 || index >= count || count > MAX_MESSAGE_BYTES / 1024) throw new Error('bad chunk header')
    let entry = this.#parts.get(id)
    if (!entry) {
      if (index !== 0) throw new Error('chunk out of order')
      entry = { count, chunks: [], size: 0 }
      this.#parts.set(id, entry)
    }
    if (entry.count !== count || entry.chunks.length !== index) throw new Error('chunk out of order')
    const body = frame.subarray(HEADER)
    entry.size += body.byteLength
    if (entry.size > MAX_MESSAGE_BYTES) throw new Error('message too large')
    entry.chunks.push(body)
    if (entry.chunks.length < count) return undefined
    this.#parts.delete(id)
    const out = new Uint8Array(entry.size)
    let offset = 0
    for (const c of entry.chunks) {
      out.set(c, offset)
      offset += c.byteLength
    }
    return out
  }
}
