/**
 * What a post is, independent of where it is stored: kinds, categories and the limits of a form.
 * Words for people live in client/i18n; these are stable codes stored in documents.
 */
export const POST_KINDS = ['request', 'offer', 'lend', 'give', 'sell', 'event', 'tip', 'info'] as const
export type PostKind = (typeof POST_KINDS)[number]

/** The kinds anyone can post; `info` (official news) is for référents. */
export const WRITABLE_KINDS = ['request', 'offer', 'lend', 'give', 'sell', 'event', 'tip', 'info'] as const satisfies readonly PostKind[]

/** Kinds that follow the help lifecycle: neighbours answer "I can help", the author accepts, closes, thanks. */
export const HELP_KINDS: readonly PostKind[] = ['request', 'offer', 'lend', 'give']
export const isHelpKind = (kind: string): boolean => (HELP_KINDS as readonly string[]).includes(kind)

export const CATEGORIES = [
  'childcare',
  'pets',
  'diy',
  'gardening',
  'errands',
  'lifts',
  'lessons',
  'company',
  'paperwork',
  'house-sitting',
  'other',
] as const
export type Category = (typeof CATEGORIES)[number]

export const LIMITS = {
  displayName: 60,
  neighbourhoodName: 80,
  title: 120,
  body: 4000,
  answer: 1000,
  comment: 2000,
  thanks: 500,
  theme: 30,
  themes: 5,
} as const

/** A post is open for 30 days unless its author says otherwise; then the author is asked "still needed?". */
export const DEFAULT_EXPIRY_MS = 30 * 24 * 3600 * 1000

/** Themes are short folded tags ("canicule", "confinement"): lowercase, no accents, no spaces. */
export function normaliseTheme(theme: string): string {
  return theme
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/^#/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, LIMITS.theme)
}

/** Splits "canicule, Fête des voisins" into ["canicule", "fete-des-voisins"], without duplicates. */
export function parseThemes(text: string): string[] {
  return [...new Set(text.split(/[,;#]+/).map(normaliseTheme).filter(Boolean))].slice(0, LIMITS.themes)
}
