/**
 * Where a storage key lives on disk, and the format of the file that holds it.
 *
 * Layout: `<root>/<shard>/<first key part>/<file>`, where `shard` is the first two characters of the
 * encoded first key part (a document ID), so no folder holds more than a few thousand entries.
 * Key parts are encoded so that any string is a safe, case-distinct file name on Linux, macOS and
 * Windows: `[a-z0-9_-]` stay as they are, an upper-case letter `X` becomes `^x` (base58 document IDs
 * differ only by case, and macOS and Windows folders are case-insensitive), every other byte of its
 * UTF-8 form becomes `%hh`. Hence `.`, `/`, `\`, `=` and `~` never appear in an encoded part: `.`
 * separates the parts in a file name, `=` starts a hashed name, `~` marks our temporary files.
 *
 * File: `PLKV` | version (1 byte) | key length (u32 BE) | key as JSON | data length (u32 BE) | data |
 * CRC-32 of everything before (u32 BE). The key inside the file makes hashed (too long) names
 * readable, and the lengths and checksum tell a torn or corrupt file from a good one.
 */
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'

/** Longest encoded name we write; file systems allow 255 bytes. */
const MAX_NAME = 200
/** Prefix of a file holding a key, named after the encoded key parts after the first. */
export const KEY_FILE_PREFIX = 'k'
/** Prefix of a file or folder named by a hash because its encoded name would be too long. */
const HASHED_PREFIX = '='
/** Prefix of temporary files and folders being deleted; never produced by the key encoding. */
export const TEMP_PREFIX = '~'
/** The name of the folder of the first key part `''` (the encoding of `''` is empty). */
const EMPTY_PART_DIR = '%'

export function encodePart(part: string): string {
  let out = ''
  for (const byte of Buffer.from(part, 'utf8')) {
    const c = String.fromCharCode(byte)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '_' || c === '-') out += c
    else if (c >= 'A' && c <= 'Z') out += '^' + c.toLowerCase()
    else out += '%' + byte.toString(16).padStart(2, '0')
  }
  return out
}

/** Inverse of {@link encodePart}; `undefined` if `encoded` is not something we wrote. */
export function decodePart(encoded: string): string | undefined {
  const bytes: number[] = []
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded[i] as string
    if (c === '^') {
      const next = encoded[i + 1]
      if (next === undefined || next < 'a' || next > 'z') return undefined
      bytes.push(next.toUpperCase().charCodeAt(0))
      i++
    } else if (c === '%') {
      const hex = encoded.slice(i + 1, i + 3)
      if (!/^[0-9a-f]{2}$/.test(hex)) return undefined
      bytes.push(parseInt(hex, 16))
      i += 2
    } else if (/^[a-z0-9_-]$/.test(c)) bytes.push(c.charCodeAt(0))
    else return undefined
  }
  return Buffer.from(bytes).toString('utf8')
}

const hashed = (value: string): string => HASHED_PREFIX + createHash('sha256').update(value).digest('hex')

/** The shard and folder that hold every key whose first part is `first`. */
export function folderOf(first: string): { shard: string; dir: string } {
  const encoded = encodePart(first)
  const shard = (encoded + '__').slice(0, 2)
  const dir = encoded === '' ? EMPTY_PART_DIR : encoded.length > MAX_NAME ? hashed(first) : encoded
  return { shard, dir }
}

/** The file name of a key inside its folder. */
export function fileNameOf(key: readonly string[]): string {
  const name = KEY_FILE_PREFIX + key.slice(1).map((p) => '.' + encodePart(p)).join('')
  return name.length > MAX_NAME ? hashed(JSON.stringify(key)) : name
}

/**
 * The key parts after the first, read back from a file name; `'hashed'` when the name does not say
 * (the file must be read); `undefined` for a name that is not a key file (temporary or foreign).
 */
export function restOfKeyFromName(name: string): string[] | 'hashed' | undefined {
  if (name.startsWith(HASHED_PREFIX) && /^=[0-9a-f]{64}$/.test(name)) return 'hashed'
  if (!name.startsWith(KEY_FILE_PREFIX)) return undefined
  const body = name.slice(KEY_FILE_PREFIX.length)
  if (body === '') return []
  if (!body.startsWith('.')) return undefined
  const parts = body.slice(1).split('.').map(decodePart)
  return parts.every((p): p is string => p !== undefined) ? parts : undefined
}

/** True if `key` starts with every part of `prefix`, part by part (`['ab']` is not a prefix of `['abc']`). */
export const hasPrefix = (key: readonly string[], prefix: readonly string[]): boolean =>
  prefix.length <= key.length && prefix.every((p, i) => key[i] === p)

const MAGIC = Buffer.from('PLKV', 'ascii')
const VERSION = 1

/** The bytes that go before and after the data (written with writev, so the data is not copied). */
export function frameRecord(key: readonly string[], data: Uint8Array): { head: Buffer; tail: Buffer } {
  const keyBytes = Buffer.from(JSON.stringify(key), 'utf8')
  const head = Buffer.alloc(MAGIC.length + 1 + 4 + keyBytes.length + 4)
  let at = MAGIC.copy(head, 0)
  at = head.writeUInt8(VERSION, at)
  at = head.writeUInt32BE(keyBytes.length, at)
  at += keyBytes.copy(head, at)
  head.writeUInt32BE(data.byteLength, at)
  const tail = Buffer.alloc(4)
  tail.writeUInt32BE(crc32(data, crc32(head)))
  return { head, tail }
}

/** Parses a stored file; throws a plain Error saying what is wrong with it. */
export function parseRecord(file: Buffer): { key: string[]; data: Uint8Array } {
  const fail = (why: string): never => {
    throw new Error(`corrupt storage file: ${why}`)
  }
  if (file.length < MAGIC.length + 13 || !file.subarray(0, 4).equals(MAGIC)) fail('bad header')
  if (file.readUInt8(4) !== VERSION) fail(`unknown version ${file.readUInt8(4)}`)
  const keyLength = file.readUInt32BE(5)
  const dataAt = 9 + keyLength + 4
  if (dataAt + 4 > file.length) fail('truncated key')
  const dataLength = file.readUInt32BE(9 + keyLength)
  if (dataAt + dataLength + 4 !== file.length) fail(`length ${file.length} does not match its header`)
  const crcAt = dataAt + dataLength
  if (crc32(file.subarray(0, crcAt)) !== file.readUInt32BE(crcAt)) fail('checksum mismatch')
  let key: unknown
  try {
    key = JSON.parse(file.subarray(9, 9 + keyLength).toString('utf8'))
  } catch {
    fail('key is not JSON')
  }
  if (!Array.isArray(key) || !key.every((p) => typeof p === 'string')) fail('key is not a list of strings')
  // A plain Uint8Array copy: callers compare with toStrictEqual and keep it beyond the file buffer.
  return { key: key as string[], data: new Uint8Array(file.subarray(dataAt, crcAt)) }
}
