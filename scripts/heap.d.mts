// Types of scripts/heap.mjs (plain JavaScript: `npm start` runs it with node alone).
export declare const DEFAULT_HEAP_MB: number
export declare function relayHeapFlags(env: Record<string, string | undefined>): string[]
