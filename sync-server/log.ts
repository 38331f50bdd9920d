/**
 * Structured logs: one JSON object per line (`{"t":…,"level":…,"msg":…, …fields}`), so journald,
 * Docker or any log shipper can parse them without a library. Tests pass their own `write` to capture
 * lines, or the level `silent`.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  /** A logger that adds `fields` to every line it writes. */
  child(fields: LogFields): Logger
}

/** One parsed log line, as tests see it. */
export interface LogLine extends LogFields {
  t: string
  level: Exclude<LogLevel, 'silent'>
  msg: string
}

export interface LoggerOptions {
  level?: LogLevel
  /** Receives each line without its newline. Defaults to writing to stdout. */
  write?: (line: string) => void
  /** Fields added to every line. */
  fields?: LogFields
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export const isLogLevel = (v: unknown): v is LogLevel => typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v)

/** Errors do not survive JSON.stringify (their fields are not enumerable): keep what helps. */
function toJsonable(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }), stack: value.stack }
  }
  if (typeof value === 'bigint') return value.toString()
  return value
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'))
  const base = options.fields ?? {}

  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields: LogFields = {}): void => {
    if (RANK[level] < min) return
    const record: LogFields = { t: new Date().toISOString(), level, msg }
    for (const [k, v] of Object.entries({ ...base, ...fields })) record[k] = toJsonable(v)
    let line: string
    try {
      line = JSON.stringify(record)
    } catch {
      // A circular or otherwise unserialisable field must not take the relay down with it.
      line = JSON.stringify({ t: record.t, level, msg, logError: 'unserialisable fields' })
    }
    write(line)
  }

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  }
}

/** A logger that keeps parsed lines in memory, for tests. */
export function createMemoryLogger(level: LogLevel = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const log = createLogger({ level, write: (line) => lines.push(JSON.parse(line) as LogLine) })
  return { log, lines }
}
