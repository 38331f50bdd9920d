/**
 * What the board shows, as plain data and pure functions: the filters a person picks, how they read
 * from and write to the address bar, which posts they keep, the orders (newest first, nearest first),
 * the open needs and the themes on offer. The client's board store and search index both use them.
 */
import { CATEGORIES, POST_KINDS, normaliseTheme } from './domain.ts'
import { deriveStatus, isClosed, type DerivedStatus } from './lifecycle.ts'
import { distanceMetres, type Place } from './place.ts'
import type { PostRow } from './projector.ts'

/** The parts of a post that filters and orders read; the search index keeps them beside each post. */
export type PostFacet = Pick<PostRow, 'feed' | 'id' | 'kind' | 'category' | 'themes' | 'status' | 'expiresAt' | 'acceptedAt' | 'createdAt' | 'lat' | 'lon'>

/** `active`: open or in progress (the default); `closed`: done, cancelled or expired. */
export const STATUS_FILTERS = ['active', 'open', 'in-progress', 'closed', 'all'] as const
export type StatusFilter = (typeof STATUS_FILTERS)[number]

export const ORDERS = ['recent', 'near'] as const
export type Order = (typeof ORDERS)[number]

/** An empty string means "any". */
export interface BoardFilters {
  kind: string
  category: string
  theme: string
  status: StatusFilter
}

/** Everything the board's address bar can say: `/?q=perceuse&kind=lend&order=near`. */
export interface BoardParams extends BoardFilters {
  q: string
  order: Order
}

export const DEFAULT_PARAMS: Readonly<BoardParams> = { q: '', kind: '', category: '', theme: '', status: 'active', order: 'recent' }

/** How many posts a page shows, and how many more "Voir plus" adds. */
export const PAGE_SIZE = 30

const oneOf = <T extends string, F extends string>(list: readonly T[], value: string, fallback: F): T | F =>
  (list as readonly string[]).includes(value) ? (value as T) : fallback
const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''))

/** Reads the address bar; anything unknown (an old link, a typo) falls back to the default. */
export function parseBoardParams(params: Readonly<Record<string, string | string[] | undefined>>): BoardParams {
  return {
    q: first(params.q).slice(0, 200),
    kind: oneOf(POST_KINDS, first(params.kind), ''),
    category: oneOf(CATEGORIES, first(params.category), ''),
    theme: normaliseTheme(first(params.theme)),
    status: oneOf(STATUS_FILTERS, first(params.status), 'active'),
    order: oneOf(ORDERS, first(params.order), 'recent'),
  }
}

/** The address bar for `p`: defaults are left out (`undefined` removes a parameter), so a plain board is `/`. */
export function boardSearchParams(p: BoardParams): Record<keyof BoardParams, string | undefined> {
  const out = {} as Record<keyof BoardParams, string | undefined>
  for (const key of Object.keys(DEFAULT_PARAMS) as (keyof BoardParams)[]) out[key] = p[key] === DEFAULT_PARAMS[key] ? undefined : p[key]
  return out
}

/** How many of kind, category, theme and status differ from the default. */
export function activeFilterCount(f: BoardFilters): number {
  return (['kind', 'category', 'theme', 'status'] as const).filter((k) => f[k] !== DEFAULT_PARAMS[k]).length
}

export function statusOf(f: Pick<PostFacet, 'status' | 'expiresAt' | 'acceptedAt'>, now: number): DerivedStatus {
  return deriveStatus({ status: f.status, expiresAt: f.expiresAt, accepted: f.acceptedAt }, now)
}

function statusMatches(s: DerivedStatus, filter: StatusFilter): boolean {
  switch (filter) {
    case 'all':
      return true
    case 'active':
      return !isClosed(s)
    case 'closed':
      return isClosed(s)
    default:
      return s === filter
  }
}

export function matchesFilters(f: PostFacet, filters: BoardFilters, now: number): boolean {
  return (
    (!filters.kind || f.kind === filters.kind) &&
    (!filters.category || f.category === filters.category) &&
    (!filters.theme || f.themes.includes(filters.theme)) &&
    statusMatches(statusOf(f, now), filters.status)
  )
}

/** A request still waiting for help: the "Demandes d'aide" page. */
export function isOpenNeed(f: PostFacet, now: number): boolean {
  return f.kind === 'request' && !isClosed(statusOf(f, now))
}

export const newestFirst = (a: PostFacet, b: PostFacet): number => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export const placeOf = (f: Pick<PostFacet, 'lat' | 'lon'>): Place | undefined => (f.lat !== undefined && f.lon !== undefined ? { lat: f.lat, lon: f.lon } : undefined)

/**
 * Nearest first from `here`; posts without a place go last. Stable: posts at the same distance (same
 * ~200 m cell) and posts without a place keep the order they came in (newest first, or best match).
 */
export function nearestFirst<T>(items: readonly T[], here: Place, facet: (item: T) => Pick<PostFacet, 'lat' | 'lon'>): T[] {
  return items
    .map((item) => {
      const place = placeOf(facet(item))
      return { item, d: place ? distanceMetres(here, place) : Infinity }
    })
    .sort((a, b) => (a.d === b.d ? 0 : a.d - b.d))
    .map((x) => x.item)
}

export interface ThemeCount {
  theme: string
  count: number
}

/**
 * The themes offered in the filter: every theme used by at least one post, most used first, then by
 * name. (A list kept by the référents replaces this once moderation exists.)
 */
export function promotedThemes(themesOfPosts: Iterable<readonly string[]>): ThemeCount[] {
  const counts = new Map<string, number>()
  for (const themes of themesOfPosts) for (const theme of new Set(themes)) counts.set(theme, (counts.get(theme) ?? 0) + 1)
  return [...counts].map(([theme, count]) => ({ theme, count })).sort((a, b) => b.count - a.count || a.theme.localeCompare(b.theme, 'fr'))
}
