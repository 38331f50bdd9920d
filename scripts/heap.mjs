// The relay's V8 heap cap, shared by `npm start` (start.mjs) and the benchmarks' relay child, so that
// what is measured is what runs. V8 sizes its heap limit from the machine's memory (4 GB here on 24 GB)
// and grows the heap to about twice what is alive before collecting; capped, it collects sooner and the
// relay's resident memory stays near what it holds. The relay turns newcomers away before the heap
// reaches the cap (`--busy-heap`, sync-server/admission.ts), because V8 ends the process there.

/** Megabytes of V8's old generation (where documents and sync states live) `npm start` gives the relay. */
export const DEFAULT_HEAP_MB = 256

/**
 * The node flags that cap the relay's heap: `--max-old-space-size` from `PLACETTE_HEAP_MB` (default
 * {@link DEFAULT_HEAP_MB}; `0` leaves V8's own default), none if NODE_OPTIONS already sets it.
 * @param {Record<string, string | undefined>} env
 * @returns {string[]}
 */
export function relayHeapFlags(env) {
  if (/--max-old-space-size/.test(env.NODE_OPTIONS ?? '')) return []
  const raw = env.PLACETTE_HEAP_MB ?? String(DEFAULT_HEAP_MB)
  const mb = Number(raw)
  if (!Number.isInteger(mb) || mb < 0 || (mb > 0 && mb < 64)) {
    throw new Error(`PLACETTE_HEAP_MB must be 0 (V8’s default) or a number of megabytes from 64, got "${raw}"`)
  }
  return mb ? [`--max-old-space-size=${mb}`] : []
}
