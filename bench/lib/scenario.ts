/** What a scenario is and what it returns; run.ts runs them and report.ts writes them down. */
import type { System } from './devices.ts'

export const SCENARIO_IDS = ['catch-up', 'latency', 'reconnect', 'cold-start', 'search', 'projection', 'first-visit', 'relay-load', 'relay-memory', 'signatures'] as const
export type ScenarioId = (typeof SCENARIO_IDS)[number]

export interface Goal {
  /** The figure must be at most this. */
  max: number
  text: string
}

/** One row of the results table: a measure, taken on one or more systems over repeated runs. */
export interface Figure {
  measure: string
  unit: string
  /** Raw values per system: one per run (or one value for a figure measured once). */
  values: Partial<Record<System, number[]>>
  goal?: Goal
  /** How many decimals to show (default: 0 for integers ≥ 10, else 2). */
  digits?: number
}

export interface ScenarioOutcome {
  /** What is measured and how, for BENCHMARKS.md. */
  method: string
  figures: Figure[]
  /** Why a goal is missed and what would make it faster, or other findings. */
  notes: string[]
  /** Extra markdown (e.g. a table of steps). */
  details?: string
  /** The scenario has nothing to measure yet; said instead of figures. */
  skipped?: string
}

export interface ScenarioResult extends ScenarioOutcome {
  id: ScenarioId
  title: string
  goal: string
  seconds: number
  quick: boolean
  at: string
  error?: string
}

export interface RunContext {
  quick: boolean
  /** Progress line on stderr. */
  log(message: string): void
  /** Repository root (absolute). */
  root: string
}

export interface Scenario {
  id: ScenarioId
  title: string
  goal: string
  run(ctx: RunContext): Promise<ScenarioOutcome>
}
