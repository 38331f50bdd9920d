/**
 * The relay's configuration: defaults, overridden by environment variables, overridden by flags
 * (hocuspocus merges its configuration with defaults the same way). Every option is listed in
 * sync-server/README.md.
 */
import { MAX_FRAME_BYTES } from '../shared/protocol.ts'
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
}

export const DEFAULT_CONFIG: Readonly<RelayConfig> = {
  port: 3000,
  host: '0.0.0.0',
  dataDir: './data',
  staticDir: './dist',
  maxFrameBytes: MAX_FRAME_BYTES,
  logLevel: 'info',
}

/** Thrown for an unknown flag or a value that does not parse; `main.ts` prints it and exits 2. */
export class ConfigError extends PlacetteError {
  constructor(message: string) {
    super(Reason.invalidInput, message)
    this.name = 'ConfigError'
  }
}

type Option = { flag: string; env?: string; key: keyof RelayConfig; parse: (raw: string, name: string) => RelayConfig[keyof RelayConfig] }

function integer(min: number, max: number) {
  return (raw: string, name: string): number => {
    const n = Number(raw)
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`)
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

const OPTIONS: readonly Option[] = [
  { flag: '--port', env: 'PORT', key: 'port', parse: integer(0, 65535) },
  { flag: '--host', env: 'HOST', key: 'host', parse: nonEmpty },
  { flag: '--data', env: 'PLACETTE_DATA', key: 'dataDir', parse: nonEmpty },
  { flag: '--static', env: 'PLACETTE_STATIC', key: 'staticDir', parse: nonEmpty },
  // Below 1 KiB not even a join message fits; above 1 GiB a single frame could exhaust memory.
  { flag: '--max-frame-bytes', env: 'PLACETTE_MAX_FRAME_BYTES', key: 'maxFrameBytes', parse: integer(1024, 1024 ** 3) },
  { flag: '--log-level', env: 'PLACETTE_LOG_LEVEL', key: 'logLevel', parse: logLevel },
]

/** Usage text for `--help` and for configuration errors. */
export const USAGE = [
  'Usage: tsx sync-server/main.ts [options]',
  ...OPTIONS.map((o) => `  ${o.flag} <value>`.padEnd(28) + (o.env ? `env ${o.env}, ` : '') + `default ${String(DEFAULT_CONFIG[o.key])}`),
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
  const config: RelayConfig = { ...DEFAULT_CONFIG }
  const set = <K extends keyof RelayConfig>(key: K, value: RelayConfig[K]): void => {
    config[key] = value
  }

  for (const option of OPTIONS) {
    const raw = option.env === undefined ? undefined : env[option.env]
    if (raw !== undefined && raw !== '') set(option.key, option.parse(raw, option.env as string) as never)
  }

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
    set(option.key, option.parse(raw, flag) as never)
  }
  return config
}
