/**
 * The relay's configuration: defaults, overridden by environment variables, overridden by flags
 * (hocuspocus merges its configuration with defaults the same way). Every option is listed in
 * sync-server/README.md.
 */
import { MAX_FRAME_BYTES, SYNC_PATH } from '../shared/protocol.ts'
import { PlacetteError, Reason } from '../shared/errors.ts'
import { isLogLevel, LOG_LEVELS, type LogLevel } from './log.ts'

export interface RelayConfig {
  /** TCP port; 0 picks a free one (tests). */
  port: number
  host: string
  /** Folder of the document store. Created if missing. */
  dataDir: string
  /** Folder of the built PWA. If missing, the relay serves a page saying to run `npm run build`. */
  staticDir: string
  /** Largest WebSocket frame accepted; a larger one closes the sender's socket with 1009. */
  maxFrameBytes: number
  logLevel: LogLevel
  /**
   * Relays to peer with (`--upstream`, repeatable), as `ws://` or `wss://` URLs of their sync path.
   * The relay connects to each whenever it can and keeps the documents it hosts in step with it.
   */
  upstreams: string[]
  /**
   * `members` (default): every socket signs in with a member's key and gets only what that member may
   * see (access/gate.ts). `open`: no sign-in, any document to anyone who knows its ID, like the stock
   * automerge-repo server — only for a closed network or for measuring the bare sync.
   */
  access: 'members' | 'open'
  /** Public keys of relays allowed to peer with this one (`--trust-relay`, repeatable). */
  trustRelays: string[]
  /** Other sites whose pages may sign in (`--allow-origin`, repeatable), e.g. a dev server. */
  allowOrigins: string[]
  /**
   * A document nothing happened to for this long, that no connected client is syncing, is written and
   * evicted from memory (sync-server/eviction.ts); it is loaded again when someone asks. 0: never.
   */
  evictIdleMs: number
  /** Most documents kept in memory; the least recently active ones are evicted first. 0: no cap. */
  maxDocumentsInMemory: number
  /**
   * Event-loop utilization (percent, over 5 s) at which the relay is saturated: new sockets are told
   * to come back later while the connected ones are served (sync-server/admission.ts). 0: never refuse.
   */
  busyUtilization: number
  /**
   * Share (percent) of V8's heap limit in use, lowest over 5 s, at which new sockets are told to come
   * back later (sync-server/admission.ts): V8 ends the process at that limit. 0: never refuse on memory.
   */
  busyHeap: number
}

export const DEFAULT_CONFIG: Readonly<RelayConfig> = {
  port: 3000,
  host: '0.0.0.0',
  dataDir: './data',
  staticDir: './dist',
  maxFrameBytes: MAX_FRAME_BYTES,
  logLevel: 'info',
  upstreams: [],
  access: 'members',
  trustRelays: [],
  allowOrigins: [],
  evictIdleMs: 60_000,
  maxDocumentsInMemory: 1_000,
  busyUtilization: 70,
  busyHeap: 75,
}

/** Thrown for an unknown flag or a value that does not parse; `main.ts` prints it and exits 2. */
export class ConfigError extends PlacetteError {
  constructor(message: string) {
    super(Reason.invalidInput, message)
    this.name = 'ConfigError'
  }
}

type Option = {
  flag: string
  env?: string
  key: keyof RelayConfig
  parse: (raw: string, name: string) => RelayConfig[keyof RelayConfig]
  /** A flag given several times adds to a list (the environment variable holds the list, space or comma separated). */
  repeatable?: true
}

function integer(min: number, max: number) {
  return (raw: string, name: string): number => {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
    return n
  }
}

/** A percentage from `min` to 100, or 0 for off. */
function percentOrOff(min: number, max = 100) {
  return (raw: string, name: string): number => {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isInteger(n) || (n !== 0 && (n < min || n > max)))
      throw new ConfigError(`${name} must be 0 (off) or an integer from ${min} to ${max}, got "${raw}"`)
    return n
  }
}

function nonEmpty(raw: string, name: string): string {
  if (raw.trim() === '') throw new ConfigError(`${name} must not be empty`)
  return raw
}

function logLevel(raw: string, name: string): LogLevel {
  if (!isLogLevel(raw)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`)
  return raw
}

/**
 * An upstream relay's sync URL. `http(s)://host` (the address people open) is accepted and turned
 * into `ws(s)://host/sync`; a URL with no path gets the sync path.
 */
export function upstreamUrl(raw: string, name: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError(`${name} must be a ws://, wss://, http:// or https:// URL, got "${raw}"`)
  }
  const scheme = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' }[url.protocol]
  if (!scheme) throw new ConfigError(`${name} must be a ws://, wss://, http:// or https:// URL, got "${raw}"`)
  if (url.hash) throw new ConfigError(`${name} must not have a #fragment, got "${raw}"`)
  url.protocol = scheme
  if (url.pathname === '/' || url.pathname === '') url.pathname = SYNC_PATH
  return url.toString()
}

function upstreamList(raw: string, name: string): string[] {
  const urls = raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((one) => upstreamUrl(one, name))
  if (urls.length === 0) throw new ConfigError(`${name} must not be empty`)
  return urls
}

function access(raw: string, name: string): RelayConfig['access'] {
  if (raw !== 'members' && raw !== 'open') throw new ConfigError(`${name} must be members or open, got "${raw}"`)
  return raw
}

function list(pattern: RegExp, what: string) {
  return (raw: string, name: string): string[] => {
    const items = raw.split(/[\s,]+/).filter(Boolean)
    if (items.length === 0) throw new ConfigError(`${name} must not be empty`)
    for (const item of items) if (!pattern.test(item)) throw new ConfigError(`${name} must be ${what}, got "${item}"`)
    return items
  }
}

const OPTIONS: readonly Option[] = [
  { flag: '--port', env: 'PORT', key: 'port', parse: integer(0, 65535) },
  { flag: '--host', env: 'HOST', key: 'host', parse: nonEmpty },
  { flag: '--data', env: 'PLACETTE_DATA', key: 'dataDir', parse: nonEmpty },
  { flag: '--static', env: 'PLACETTE_STATIC', key: 'staticDir', parse: nonEmpty },
  // Below 1 KiB not even a join message fits; above 1 GiB a single frame could exhaust memory.
  { flag: '--max-frame-bytes', env: 'PLACETTE_MAX_FRAME_BYTES', key: 'maxFrameBytes', parse: integer(1024, 1024 ** 3) },
  { flag: '--log-level', env: 'PLACETTE_LOG_LEVEL', key: 'logLevel', parse: logLevel },
  { flag: '--upstream', env: 'PLACETTE_UPSTREAM', key: 'upstreams', parse: upstreamList, repeatable: true },
  { flag: '--access', env: 'PLACETTE_ACCESS', key: 'access', parse: access },
  { flag: '--trust-relay', env: 'PLACETTE_TRUST_RELAY', key: 'trustRelays', parse: list(/^[A-Za-z0-9_-]{43}$/, 'a relay public key (43 base64url characters)'), repeatable: true },
  // Up to a day; 0 turns it off.
  { flag: '--evict-idle-ms', env: 'PLACETTE_EVICT_IDLE_MS', key: 'evictIdleMs', parse: integer(0, 86_400_000) },
  { flag: '--max-documents-in-memory', env: 'PLACETTE_MAX_DOCUMENTS_IN_MEMORY', key: 'maxDocumentsInMemory', parse: integer(0, 10_000_000) },
  // Below 50 % a relay would turn devices away while it still has room.
  { flag: '--busy-utilization', env: 'PLACETTE_BUSY_UTILIZATION', key: 'busyUtilization', parse: percentOrOff(50) },
  // Below 50 % the relay would turn devices away with half its heap unused; above 90 % V8 collects
  // garbage almost without pause before the door shuts.
  { flag: '--busy-heap', env: 'PLACETTE_BUSY_HEAP', key: 'busyHeap', parse: percentOrOff(50, 90) },
  { flag: '--allow-origin', env: 'PLACETTE_ALLOW_ORIGIN', key: 'allowOrigins', parse: list(/^https?:\/\/[^/\s]+$/, 'an origin like https://example.org'), repeatable: true },
]

/** Usage text for `--help` and for configuration errors. */
export const USAGE = [
  'Usage: tsx sync-server/main.ts [options]',
  ...OPTIONS.map(
    (o) =>
      `  ${o.flag} <${o.repeatable ? 'item' : 'value'}>`.padEnd(28) +
      (o.env ? `env ${o.env}, ` : '') +
      (o.repeatable ? 'repeatable, default none' : `default ${String(DEFAULT_CONFIG[o.key])}`),
  ),
  '  --help'.padEnd(28) + 'show this text',
].join('\n')

/** True when the arguments ask for the usage text (`main.ts` prints {@link USAGE} and exits). */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h')

/**
 * Builds the configuration from command-line arguments (without `node` and the script) and the
 * environment. Flags accept `--name value` and `--name=value`. Unknown flags and bad values throw a
 * {@link ConfigError}.
 */
export function parseConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): RelayConfig {
  const config: RelayConfig = { ...DEFAULT_CONFIG, upstreams: [], trustRelays: [], allowOrigins: [] }
  const set = <K extends keyof RelayConfig>(key: K, value: RelayConfig[K]): void => {
    config[key] = value
  }

  for (const option of OPTIONS) {
    const raw = option.env === undefined ? undefined : env[option.env]
    if (raw === undefined || raw === '') continue
    const value = option.parse(raw, option.env as string)
    set(option.key, (option.repeatable ? [...new Set(value as string[])] : value) as never)
  }

  // Flags of a repeatable option replace the environment's list rather than add to it.
  const repeatedFromFlags = new Set<keyof RelayConfig>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const eq = arg.indexOf('=')
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    const option = OPTIONS.find((o) => o.flag === flag)
    if (!option) throw new ConfigError(`unknown option "${arg}"\n${USAGE}`)
    let raw: string | undefined
    if (flag !== arg) raw = arg.slice(eq + 1)
    else {
      raw = argv[i + 1]
      if (raw === undefined || raw.startsWith('--')) throw new ConfigError(`${flag} needs a value`)
      i++
    }
    const value = option.parse(raw, flag)
    if (option.repeatable) {
      const before = repeatedFromFlags.has(option.key) ? (config[option.key] as string[]) : []
      repeatedFromFlags.add(option.key)
      set(option.key, [...new Set([...before, ...(value as string[])])] as never)
    } else set(option.key, value as never)
  }
  return config
}
