/**
 * Writes results down: a table for the terminal and BENCHMARKS.md. The raw results travel inside
 * BENCHMARKS.md (an HTML comment at the end), so `--only <scenario>` can replace one section and keep
 * the others.
 */
import { SYSTEM_NAMES, type System } from './devices.ts'
import type { Machine } from './machine.ts'
import type { Figure, ScenarioResult } from './scenario.ts'
import { summarize } from './stats.ts'

const RESULTS_MARK = 'bench-results:'

function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '—'
  const d = digits ?? (Math.abs(value) >= 10 || Number.isInteger(value) ? 0 : 2)
  return value.toLocaleString('en', { minimumFractionDigits: d, maximumFractionDigits: d })
}

/** `median (min–max, n=3) unit`, or the single value. */
export function cell(values: readonly number[] | undefined, figure: Figure): string {
  if (!values?.length) return '—'
  const s = summarize(values)
  const unit = figure.unit === '×' ? '×' : ` ${figure.unit}`
  if (s.n === 1) return `${fmt(s.median, figure.digits)}${unit}`
  return `${fmt(s.median, figure.digits)}${unit} (${fmt(s.min, figure.digits)}–${fmt(s.max, figure.digits)}, n=${s.n})`
}

function ratio(figure: Figure, other: System): string {
  const a = figure.values.placette
  const b = figure.values[other]
  if (!a?.length || !b?.length) return '—'
  const r = summarize(a).median / summarize(b).median
  return Number.isFinite(r) ? `${fmt(r, r >= 10 ? 0 : 2)}×` : '—'
}

function verdict(figure: Figure): string {
  if (!figure.goal) return ''
  const p = figure.values.placette
  if (!p?.length) return 'not measured'
  return summarize(p).median <= figure.goal.max ? 'met' : '**missed**'
}

interface Row {
  scenario: string
  measure: string
  goal: string
  placette: string
  stock: string
  yjs: string
  vsStock: string
  vsYjs: string
  verdict: string
}

function rows(results: readonly ScenarioResult[]): Row[] {
  const out: Row[] = []
  for (const r of results) {
    if (r.error || r.skipped) {
      out.push({ scenario: r.id, measure: r.error ? `ERROR: ${r.error.split('\n')[0]}` : r.skipped ?? '', goal: r.goal, placette: '', stock: '', yjs: '', vsStock: '', vsYjs: '', verdict: r.error ? 'error' : 'skipped' })
      continue
    }
    for (const f of r.figures) {
      out.push({
        scenario: r.id,
        measure: f.measure,
        goal: f.goal?.text ?? '',
        placette: cell(f.values.placette, f),
        stock: cell(f.values.stock, f),
        yjs: cell(f.values.yjs, f),
        vsStock: ratio(f, 'stock'),
        vsYjs: ratio(f, 'yjs'),
        verdict: verdict(f),
      })
    }
  }
  return out
}

const HEADER = ['scenario', 'measure', 'goal', SYSTEM_NAMES.placette, SYSTEM_NAMES.stock, SYSTEM_NAMES.yjs, 'Placette ÷ stock', 'Placette ÷ Yjs', 'goal'] as const
const cells = (r: Row) => [r.scenario, r.measure, r.goal, r.placette, r.stock, r.yjs, r.vsStock, r.vsYjs, r.verdict]

export function markdownTable(results: readonly ScenarioResult[]): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|')
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows(results).map((r) => `| ${cells(r).map(escape).join(' | ')} |`)].join('\n')
}

/** A plain-text table for the terminal. */
export function terminalTable(results: readonly ScenarioResult[]): string {
  const all = [HEADER as readonly string[], ...rows(results).map(cells)].map((r) => r.map((c) => c.replace(/\*\*/g, '')))
  const widths = HEADER.map((_, i) => Math.min(60, Math.max(...all.map((r) => (r[i] ?? '').length))))
  const line = (r: readonly string[]) => r.map((c, i) => (c.length > (widths[i] ?? 0) ? c.slice(0, (widths[i] ?? 1) - 1) + '…' : c.padEnd(widths[i] ?? 0))).join('  ')
  return [line(all[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n')
}

export function rerunCommand(id: string): string {
  return `npm run bench -- --only ${id}`
}

export interface ReportInput {
  results: ScenarioResult[]
  machine: Machine
  quick: boolean
  /** Said under the machine: e.g. that other work ran at the same time. */
  conditions?: string
}

export function renderReport({ results, machine, quick, conditions }: ReportInput): string {
  const dates = [...new Set(results.map((r) => r.at.slice(0, 10)))].sort()
  const out: string[] = []
  out.push(`# Placette benchmarks${quick ? ' (--quick: small sizes, to keep the harness working — not figures)' : ''}`, '')
  out.push(
    'Written by `npm run bench` (bench/run.ts). Benchmarks are not tests: nothing fails on a time. ' +
      'Every figure is the median over repeated runs with its range (min–max, n runs) unless it was measured once. ' +
      'Peers run side by side in the same run, on the same workload, on this machine: the stock automerge-repo ' +
      'sync server setup (NodeFS storage, no compression, stock WebSocket client with its 5 s retry) and Yjs + y-websocket ' +
      '(the same board in one Y.Doc, posts in a Y.Map). Data come from the seeded generator `bench/generate.ts`.',
    '',
  )
  out.push('## Machine and versions', '')
  out.push(`- Date: ${dates.join(', ')}`)
  out.push(`- CPU: ${machine.cpu}, ${machine.cores} cores; RAM ${machine.ramGb} GB; ${machine.os}`)
  out.push(`- Node ${machine.node}; ${machine.chromium}; commit ${machine.commit}`)
  out.push(`- Packages: ${Object.entries(machine.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  if (conditions) out.push(`- Conditions: ${conditions}`)
  out.push('', '## Rerun', '')
  out.push('- Everything: `npm run bench` (about an hour here); CI runs `npm run bench -- --quick` (small sizes, writes .tmp/BENCHMARKS.quick.md).')
  out.push('- One scenario: `npm run bench -- --only <scenario>` (updates its section here, keeps the others); add `--quick` for the small variant.')
  out.push('- Profile a server child: `PLACETTE_BUSY_UTILIZATION=0 BENCH_CPU_PROF=/tmp/prof npm run bench -- --only relay-load` writes V8 CPU profiles (open them in Chrome DevTools; the relay’s admission door is turned off because a profiled relay turns newcomers away at a quarter of a core).')
  out.push('', '## Summary', '', markdownTable(results), '')
  for (const r of results) {
    out.push(`## ${r.id}: ${r.title}`, '')
    out.push(`Goal: ${r.goal}. Rerun: \`${rerunCommand(r.id)}\`. Took ${r.seconds.toFixed(0)} s on ${r.at.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (--quick)' : ''}.`, '')
    if (r.error) {
      out.push('**The scenario failed:**', '', '```', r.error, '```', '')
      continue
    }
    if (r.skipped) {
      out.push(`${r.skipped[0]?.toUpperCase()}${r.skipped.slice(1)}.`, '')
      continue
    }
    out.push(r.method, '')
    out.push(markdownTable([{ ...r, id: r.id }]).replace(/^\| scenario \|/, '| scenario |'), '')
    if (r.details) out.push(r.details, '')
    if (r.notes.length) {
      out.push('Why, and what would make it faster:', '')
      for (const n of r.notes) out.push(`- ${n}`)
      out.push('')
    }
  }
  out.push(`<!-- ${RESULTS_MARK} ${JSON.stringify({ results, machine, conditions }).replace(/--/g, '\\u002d\\u002d')} -->`, '')
  return out.join('\n')
}

/** The results embedded in a BENCHMARKS.md written before, if any. */
export function readEmbeddedResults(markdown: string): { results: ScenarioResult[]; conditions?: string } | undefined {
  const at = markdown.lastIndexOf(`<!-- ${RESULTS_MARK} `)
  if (at < 0) return undefined
  const end = markdown.indexOf(' -->', at)
  try {
    const parsed = JSON.parse(markdown.slice(at + RESULTS_MARK.length + 5, end)) as { results: ScenarioResult[]; conditions?: string }
    return Array.isArray(parsed.results) ? parsed : undefined
  } catch {
    return undefined
  }
}
