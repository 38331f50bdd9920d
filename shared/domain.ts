/**
 * What a post is, independent of where it is stored: kinds, categories and the limits of a form.
 * Words for people live in client/i18n; these are stable codes stored in documents.
 */
export const POST_KINDS = ['request', 'offer', 'lend', 'give', 'sell', 'event', 'tip', 'info'] as const
export type PostKind = (typeof POST_KINDS)[number]

/** The kinds a person can choose today; the others arrive with the board issue. */
export const WRITABLE_KINDS = ['request', 'offer'] as const satisfies readonly PostKind[]

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
} as const
