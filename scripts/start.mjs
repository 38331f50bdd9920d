#!/usr/bin/env node
// `npm start`: builds the app when the build is missing or older than its sources, then runs the relay
// serving it (PWA and sync on one port, data in ./data). Extra flags go to the relay, e.g.
// `npm start -- --port 8080`. The relay's heap is capped (scripts/heap.mjs; `PLACETTE_HEAP_MB`).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { relayHeapFlags } from './heap.mjs'

const SOURCES = ['client', 'shared', 'public', 'vite.config.ts', 'package-lock.json']

function newest(path) {
  if (!existsSync(path)) return 0
  const s = statSync(path)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))))
}

const built = existsSync('dist/index.html') ? statSync('dist/index.html').mtimeMs : 0
if (built < Math.max(...SOURCES.map(newest))) {
  console.log(built ? 'Sources changed: rebuilding the app…' : 'Building the app (first start)…')
  const result = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

let heap
try {
  heap = relayHeapFlags(process.env)
} catch (err) {
  console.error(err.message)
  process.exit(2)
}
const relay = spawn(process.execPath, [...heap, '--import', 'tsx', 'sync-server/main.ts', '--static', 'dist', ...process.argv.slice(2)], { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => relay.kill(signal))
relay.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
