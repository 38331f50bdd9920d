/**
 * The storage contract: what automerge-repo expects of a `StorageAdapterInterface`, run against the
 * real adapter and the fake alike (as automerge-repo's helpers/tests/storage-adapter-tests.ts is run
 * by its NodeFS adapter). Order of `loadRange` results is not part of the contract.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import type { Chunk, StorageAdapterInterface } from '@automerge/automerge-repo/slim'

const A = (): Uint8Array => new Uint8Array([0, 1, 127, 99, 154, 235])
const B = (): Uint8Array => new Uint8Array([1, 76, 160, 53, 57, 10, 230])
const C = (): Uint8Array => new Uint8Array([2, 111, 74, 131, 236, 96, 142, 193])
const DOC = '2jZzs4tR7Ev8Pn9cQwBNaZkdNcHk'

const sorted = (chunks: Chunk[]): Chunk[] =>
  [...chunks].sort((x, y) => (JSON.stringify(x.key) < JSON.stringify(y.key) ? -1 : 1))

/** Key parts that are hard for a file system: separators, dots, case twins, non-ASCII, long ones. */
export const ODD_PARTS = [
  '', '.', '..', '/', '\\', 'a/b', '../../etc/passwd', '%', '%2f', '^a', 'Ab', 'aB', 'ab', 'é', '日本', '🙂',
  ' ', 'con', 'CON', 'nul', '~tmp-x', '=abc', 'k', 'x'.repeat(300), 'line\nbreak', 'nul\0byte', 'a.b.c',
]

/**
 * Registers the contract's tests. `makeAdapter` gives a fresh, empty adapter for every test; the caller
 * cleans up whatever it made (e.g. temporary folders) in its own hooks.
 */
export function runStorageContract(name: string, makeAdapter: () => Promise<StorageAdapterInterface> | StorageAdapterInterface): void {
  describe(`storage contract: ${name}`, () => {
    let s: StorageAdapterInterface
    beforeEach(async () => {
      s = await makeAdapter()
    })

    it('loads nothing for a missing key', async () => {
      expect(await s.load([DOC, 'sync-state', 'xxxxx'])).toBeUndefined()
      expect(await s.loadRange([DOC])).toEqual([])
    })

    it('loads what it saved, for single and composite keys', async () => {
      await s.save(['storage-adapter-id'], A())
      await s.save([DOC, 'snapshot', 'h1'], B())
      expect(await s.load(['storage-adapter-id'])).toStrictEqual(A())
      expect(await s.load([DOC, 'snapshot', 'h1'])).toStrictEqual(B())
    })

    it('overwrites a key saved twice', async () => {
      await s.save([DOC, 'sync-state', 'x'], A())
      await s.save([DOC, 'sync-state', 'x'], B())
      expect(await s.load([DOC, 'sync-state', 'x'])).toStrictEqual(B())
      expect(await s.loadRange([DOC, 'sync-state'])).toStrictEqual([{ key: [DOC, 'sync-state', 'x'], data: B() }])
    })

    it('loads a range by prefix, part by part', async () => {
      await s.save([DOC, 'sync-state', 'x'], A())
      await s.save([DOC, 'snapshot', 'y'], B())
      await s.save([DOC, 'sync-state', 'z'], C())
      await s.save(['ab', 'incremental', '1'], A())
      await s.save(['abc', 'incremental', '1'], B())
      await s.save(['ab', 'inc', '2'], C())
      expect(sorted(await s.loadRange([DOC]))).toStrictEqual([
        { key: [DOC, 'snapshot', 'y'], data: B() },
        { key: [DOC, 'sync-state', 'x'], data: A() },
        { key: [DOC, 'sync-state', 'z'], data: C() },
      ])
      expect(sorted(await s.loadRange([DOC, 'sync-state']))).toStrictEqual([
        { key: [DOC, 'sync-state', 'x'], data: A() },
        { key: [DOC, 'sync-state', 'z'], data: C() },
      ])
      // ['ab'] is not a prefix of ['abc'], and ['ab', 'inc'] is not a prefix of ['ab', 'incremental'].
      expect(sorted(await s.loadRange(['ab']))).toStrictEqual([
        { key: ['ab', 'inc', '2'], data: C() },
        { key: ['ab', 'incremental', '1'], data: A() },
      ])
      expect(await s.loadRange(['ab', 'inc'])).toStrictEqual([{ key: ['ab', 'inc', '2'], data: C() }])
    })

    it('removes a key, and removing a missing key is harmless', async () => {
      await s.save([DOC, 'snapshot', 'x'], A())
      await s.save([DOC, 'snapshot', 'y'], B())
      await s.remove([DOC, 'snapshot', 'x'])
      await s.remove([DOC, 'snapshot', 'never-saved'])
      expect(await s.load([DOC, 'snapshot', 'x'])).toBeUndefined()
      expect(await s.loadRange([DOC])).toStrictEqual([{ key: [DOC, 'snapshot', 'y'], data: B() }])
    })

    it('removes a range and nothing outside it', async () => {
      await s.save([DOC, 'sync-state', 'x'], A())
      await s.save([DOC, 'snapshot', 'y'], B())
      await s.save([DOC, 'sync-state', 'z'], C())
      await s.save(['ab', 'snapshot', '1'], A())
      await s.save(['abc', 'snapshot', '1'], B())
      await s.removeRange([DOC, 'sync-state'])
      expect(await s.loadRange([DOC])).toStrictEqual([{ key: [DOC, 'snapshot', 'y'], data: B() }])
      await s.removeRange(['ab'])
      expect(await s.loadRange(['ab'])).toStrictEqual([])
      expect(await s.loadRange(['abc'])).toStrictEqual([{ key: ['abc', 'snapshot', '1'], data: B() }])
      await s.removeRange([DOC])
      expect(await s.loadRange([DOC])).toStrictEqual([])
      await s.removeRange(['never-saved'])
    })

    it('keeps binary content intact: every byte value, empty and large values', async () => {
      const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i)
      const large = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 7919) % 251)
      await s.save([DOC, 'incremental', 'bytes'], everyByte)
      await s.save([DOC, 'incremental', 'empty'], new Uint8Array(0))
      await s.save([DOC, 'snapshot', 'large'], large)
      expect(await s.load([DOC, 'incremental', 'bytes'])).toStrictEqual(everyByte)
      expect(await s.load([DOC, 'incremental', 'empty'])).toStrictEqual(new Uint8Array(0))
      // Compared as buffers: a deep equality over a million elements takes seconds.
      const loaded = await s.load([DOC, 'snapshot', 'large'])
      expect(loaded).toBeInstanceOf(Uint8Array)
      expect(Buffer.from(loaded as Uint8Array).equals(Buffer.from(large))).toBe(true)
    })

    it('is not changed by the caller mutating an array it saved or loaded', async () => {
      const data = A()
      await s.save([DOC, 'snapshot', 'x'], data)
      data[0] = 42
      const loaded = await s.load([DOC, 'snapshot', 'x'])
      expect(loaded).toStrictEqual(A())
      ;(loaded as Uint8Array)[1] = 42
      expect(await s.load([DOC, 'snapshot', 'x'])).toStrictEqual(A())
    })

    it('stores keys with odd characters as distinct keys', async () => {
      for (const [i, part] of ODD_PARTS.entries()) {
        await s.save([part, 'snapshot', part], new Uint8Array([i]))
        await s.save([DOC, part], new Uint8Array([i, i]))
      }
      for (const [i, part] of ODD_PARTS.entries()) {
        expect(await s.load([part, 'snapshot', part]), JSON.stringify(part)).toStrictEqual(new Uint8Array([i]))
        expect(await s.loadRange([part]), JSON.stringify(part)).toStrictEqual([{ key: [part, 'snapshot', part], data: new Uint8Array([i]) }])
        expect(await s.load([DOC, part]), JSON.stringify(part)).toStrictEqual(new Uint8Array([i, i]))
      }
      expect(await s.loadRange([DOC])).toHaveLength(ODD_PARTS.length)
      await s.removeRange(['Ab'])
      expect(await s.load(['aB', 'snapshot', 'aB'])).toStrictEqual(new Uint8Array([ODD_PARTS.indexOf('aB')]))
    })

    it('keeps every one of many concurrent saves', async () => {
      const keys = Array.from({ length: 50 }, (_, i) => [DOC, 'incremental', `h${i}`])
      await Promise.all(keys.map((key, i) => s.save(key, new Uint8Array([i]))))
      expect(await s.loadRange([DOC, 'incremental'])).toHaveLength(50)
    })
  })
}
