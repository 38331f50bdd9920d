/** Summaries of repeated measurements: the median and the spread, as BENCHMARKS.md reports them. */

export interface Summary {
  /** Median over the runs (or the samples). */
  median: number
  min: number
  max: number
  /** Interquartile range bounds. */
  p25: number
  p75: number
  n: number
}

/** The q-quantile (0…1) of `values`, by linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (pos - lo)
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: quantile(values, 0.5),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
    n: values.length,
  }
}

/** A growable array of numbers for many samples (latencies under load). */
export class Samples {
  #data = new Float64Array(1024)
  #length = 0
  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2)
      bigger.set(this.#data)
      this.#data = bigger
    }
    this.#data[this.#length++] = value
  }
  get length(): number {
    return this.#length
  }
  /** Quantiles of the samples pushed so far (sorted once per call). */
  quantiles(qs: readonly number[]): number[] {
    if (!this.#length) return qs.map(() => NaN)
    const sorted = this.#data.slice(0, this.#length).sort()
    return qs.map((q) => {
      const pos = (sorted.length - 1) * q
      const lo = Math.floor(pos)
      const hi = Math.ceil(pos)
      return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo)
    })
  }
  clear(): void {
    this.#length = 0
  }
}
