/** The machine and the versions a run used, for BENCHMARKS.md. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Machine {
  cpu: string
  cores: number
  ramGb: number
  os: string
  node: string
  chromium: string
  commit: string
  packages: Record<string, string>
}

const PACKAGES = [
  '@automerge/automerge',
  '@automerge/automerge-repo',
  '@automerge/automerge-repo-network-websocket',
  '@automerge/automerge-repo-storage-nodefs',
  'yjs',
  'y-websocket',
  '@y/websocket-server',
  'ws',
  'playwright-core',
  'vite',
]

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

export async function describeMachine(root: string): Promise<Machine> {
  const cpu = /model name\s*:\s*(.+)/.exec(read('/proc/cpuinfo'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
  const os = /PRETTY_NAME="?([^"\n]+)"?/.exec(read('/etc/os-release'))?.[1] ?? 'Linux'
  const chromium = await run(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', ['--version'])
    .then((r) => r.stdout.trim().split('\n')[0] ?? '')
    .catch(() => 'not found')
  const commit = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
    .then(async (r) => {
      const dirty = await run('git', ['status', '--porcelain'], { cwd: root }).then((s) => s.stdout.trim() !== '')
      return r.stdout.trim() + (dirty ? ' (with uncommitted changes)' : '')
    })
    .catch(() => 'unknown')
  const packages: Record<string, string> = {}
  for (const name of PACKAGES) {
    const version = (JSON.parse(read(join(root, 'node_modules', name, 'package.json')) || '{}') as { version?: string }).version
    if (version) packages[name] = version
  }
  return {
    cpu,
    cores: cpus().length,
    ramGb: Math.round(totalmem() / 1024 ** 3),
    os: `${os}, kernel ${release()}`,
    node: process.version,
    chromium,
    commit,
    packages,
  }
}
