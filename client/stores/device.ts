import { createResource } from 'solid-js'

/**
 * What this device does with our data: whether the browser promised to keep it (persistent storage,
 * not evicted when space runs low) and how much room it takes.
 */
export interface StorageInfo {
  /** undefined: the browser cannot tell. */
  persisted: boolean | undefined
  usage: number | undefined
  quota: number | undefined
}

async function readStorage(): Promise<StorageInfo> {
  const storage = typeof navigator !== 'undefined' ? navigator.storage : undefined
  const [persisted, estimate] = await Promise.all([storage?.persisted?.().catch(() => undefined), storage?.estimate?.().catch(() => undefined)])
  return { persisted, usage: estimate?.usage, quota: estimate?.quota }
}

/** Asks the browser to keep our data even when the device is short of space. Returns whether it agreed. */
export async function requestPersistence(): Promise<boolean | undefined> {
  return navigator.storage?.persist?.().catch(() => undefined)
}

export function useStorageInfo() {
  const [info, { refetch }] = createResource(readStorage)
  return {
    info,
    /** Asks the browser; resolves with its answer (undefined: it cannot tell). */
    async protect(): Promise<boolean | undefined> {
      const granted = await requestPersistence()
      await refetch()
      return granted
    },
    refresh: () => void refetch(),
  }
}
