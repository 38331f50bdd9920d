/**
 * Whether bytes from outside are an Automerge sync message that Automerge can take without harm.
 *
 * `decodeSyncMessage` succeeding is not enough. Automerge 3.5.0 reads a `have` entry's Bloom filter
 * as three LEB128 numbers (entries, bits per entry, probes) and then the bits, and accepts a filter
 * that claims entries with zero bits per entry. It only fails later, when it next *generates* a message
 * for that peer: `attempt to calculate the remainder with a divisor of zero` (a wasm panic), because
 * a probe is a hash modulo the filter's bit count. In automerge-repo that panic happened inside the
 * update that had just applied the message, so the document's handle kept the document the update had
 * outdated, and every later sync message about that document failed ("Attempting to change an
 * outdated document"): one hostile frame on the relay stopped a whole neighbourhood's board from
 * syncing (relay fuzz test, seeds 1958724696 and 1246062501). A filter with an absurd probe count is
 * refused too: Automerge allocates and computes one probe per count for every hash it looks up.
 *
 * An honest Automerge writes filters with 10 bits per entry and 7 probes, and no filter (empty bytes)
 * when there is nothing to summarise.
 */
import { decodeSyncMessage } from '@automerge/automerge'

/** Far above the 7 Automerge uses, far below what would cost anything. */
export const MAX_BLOOM_PROBES = 64

/** Reads an unsigned LEB128 number of at most 32 bits at `at`; undefined if it is not one. */
function uleb32(bytes: Uint8Array, at: number): { value: number; next: number } | undefined {
  let value = 0
  for (let i = 0; i < 5; i++) {
    const byte = bytes[at + i]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return value > 0xffff_ffff ? undefined : { value, next: at + i + 1 }
  }
  return undefined
}

/** What is wrong with one Bloom filter of a `have` entry, or undefined if Automerge can use it safely. */
export function bloomProblem(bloom: Uint8Array): string | undefined {
  if (bloom.length === 0) return undefined
  const entries = uleb32(bloom, 0)
  const bitsPerEntry = entries && uleb32(bloom, entries.next)
  const probes = bitsPerEntry && uleb32(bloom, bitsPerEntry.next)
  if (!entries || !bitsPerEntry || !probes) return 'has a Bloom filter whose header is not three numbers'
  if (entries.value > 0 && Math.ceil((entries.value * bitsPerEntry.value) / 8) === 0) return 'has a Bloom filter with entries but no bits'
  if (probes.value > MAX_BLOOM_PROBES) return `has a Bloom filter asking for ${probes.value} probes`
  return undefined
}

/**
 * What is wrong with the payload of a `sync` or `request` message, or undefined if Automerge can take
 * it (and for every other message). The reason is for logs and close frames; it never echoes the bytes.
 */
export function syncPayloadProblem(message: { type: string; data?: unknown }): string | undefined {
  if ((message.type !== 'sync' && message.type !== 'request') || message.data === undefined) return undefined
  if (!(message.data instanceof Uint8Array)) return 'is not bytes'
  let decoded: ReturnType<typeof decodeSyncMessage>
  try {
    decoded = decodeSyncMessage(message.data)
  } catch {
    return 'is not an Automerge sync message'
  }
  for (const have of decoded.have) {
    const problem = bloomProblem(have.bloom)
    if (problem) return problem
  }
  return undefined
}
