/**
 * The built PWA for the browser scenarios. `dist/` is reused when it is newer than every source of
 * the app; otherwise the bench builds its own copy into .tmp/bench-dist (so it never overwrites a
 * `dist/` that someone else's tests are serving), and reuses that while it stays fresh.
 * `PLACETTE_BENCH_APP=<dir>` serves that build instead (another version's, to compare two versions).
 */
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const INPUTS = ['client', 'shared', 'public', 'vite.config.ts', 'scripts/communes.ts', 'package-lock.json']

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)))
  return newest
}

const builtAt = (dir: string) => (existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'sw.js')) ? statSync(join(dir, 'index.html')).mtimeMs : 0)

export interface AppBuild {
  dir: string
  /** `reused dist/`, `reused .tmp/bench-dist` or `built in N s`. */
  how: string
}

export async function ensureAppBuild(root: string, log: (m: string) => void): Promise<AppBuild> {
  const chosen = process.env.PLACETTE_BENCH_APP
  if (chosen) return { dir: chosen, how: `the build in ${chosen} (PLACETTE_BENCH_APP)` }
  const sources = Math.max(...INPUTS.map((p) => newestMtime(join(root, p))))
  const dist = join(root, 'dist')
  if (builtAt(dist) > sources) return { dir: dist, how: 'reused dist/ (newer than the sources)' }
  const own = join(root, '.tmp', 'bench-dist')
  if (builtAt(own) > sources) return { dir: own, how: 'reused .tmp/bench-dist (newer than the sources)' }
  log('building the app into .tmp/bench-dist (vite build)')
  const start = performance.now()
  await run(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', own, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  })
  return { dir: own, how: `built into .tmp/bench-dist in ${((performance.now() - start) / 1000).toFixed(0)} s` }
}
