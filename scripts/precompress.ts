/**
 * Build step: writes a brotli copy (best quality) and a gzip copy next to each file of the build that is
 * worth compressing, which the relay then serves as they are (sync-server/http/static.ts checks each
 * against its file). Brotli's best quality takes about 9 s for Automerge's 3.6 MB wasm here, minutes on
 * a Raspberry Pi: paid once per build rather than by the relay after every restart, while its first
 * visitors got the fast setting's bytes (1.165 MB instead of 0.998 MB on a first visit).
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { extname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { Logger, Plugin } from 'vite'
import { COMPRESSIBLE, MIN_COMPRESS_BYTES, PRECOMPRESSED } from '../sync-server/http/static.ts'

const brotli = promisify(brotliCompress)
const gz = promisify(gzip)

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)])))
  return nested.flat()
}

/** Writes `<file>.br` and `<file>.gz` for every compressible file of `dir`; returns how many files. */
export async function precompress(dir: string): Promise<number> {
  const sized: Array<[string, number]> = []
  for (const file of await filesUnder(dir)) {
    const { size } = await stat(file)
    if (COMPRESSIBLE.has(extname(file).toLowerCase()) && size >= MIN_COMPRESS_BYTES) sized.push([file, size])
  }
  // Largest first, a few at a time (zlib runs on libuv's thread pool).
  const queue = sized.sort((a, b) => b[1] - a[1]).map(([file]) => file)
  const count = queue.length
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const body = await readFile(file)
      const params = { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: body.length }
      await writeFile(file + PRECOMPRESSED.br, await brotli(body, { params }))
      await writeFile(file + PRECOMPRESSED.gzip, await gz(body, { level: 9 }))
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(4, availableParallelism())) }, worker))
  return count
}

/** The Vite plugin: runs {@link precompress} on the output folder once everything else is written (the service worker too). */
export function precompressPlugin(): Plugin {
  let outDir = ''
  let logger: Logger | undefined
  return {
    name: 'placette-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
      logger = config.logger
    },
    closeBundle: {
      order: 'post',
      sequential: true,
      async handler() {
        const started = performance.now()
        const count = await precompress(outDir)
        logger?.info(`precompressed ${count} files (brotli 11, gzip 9) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      },
    },
  }
}
