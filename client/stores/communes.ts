import { createResource, onCleanup } from 'solid-js'
import communesUrl from 'virtual:placette-communes'
import { decodeCommunes, searchCommunes, type CommuneMatch } from '../../shared/communes.ts'

/**
 * The list of French communes (0.27 MB brotli), loaded only when someone creates a neighbourhood.
 * It is not in the service worker's precache — someone who joins never needs it, and it would be a
 * fifth of every first visit — but cached by the service worker the first time it is fetched
 * (vite.config.ts), so it works offline from then on. Offline on a fresh install, it cannot load:
 * `unavailable()` says so, and it is fetched again when the device is back online or someone types.
 */
export function useCommunes() {
  const [list, { refetch }] = createResource(async () => {
    const response = await fetch(communesUrl)
    if (!response.ok) throw new Error(`communes list: HTTP ${response.status}`)
    return decodeCommunes(await response.text())
  })
  let lastTry = 0
  const retry = () => {
    if (list.state !== 'errored' || Date.now() - lastTry < 2000) return
    lastTry = Date.now()
    void refetch()
  }
  window.addEventListener('online', retry)
  onCleanup(() => window.removeEventListener('online', retry))
  return {
    loading: () => list.loading,
    unavailable: () => list.state === 'errored',
    search: (query: string): CommuneMatch[] => {
      if (list.state === 'ready') return searchCommunes(list(), query, 12)
      // Someone typing is a good moment to try again (the `online` event does not always come).
      if (query) queueMicrotask(retry)
      return []
    },
  }
}
