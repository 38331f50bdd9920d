import { createResource } from 'solid-js'
import { decodeCommunes, searchCommunes, type CommuneMatch } from '../../shared/communes.ts'

/**
 * The list of French communes, shipped with the app (precached by the service worker), loaded only
 * when someone creates a neighbourhood.
 */
export function useCommunes() {
  const [list] = createResource(async () => decodeCommunes((await import('virtual:placette-communes')).default))
  return {
    loading: () => list.loading,
    search: (query: string): CommuneMatch[] => {
      const l = list()
      return l ? searchCommunes(l, query, 12) : []
    },
  }
}
