import { createSignal } from 'solid-js'
import { fr, type MessageKey } from './fr.ts'
import { en } from './en.ts'
import type { IssueCode } from '../../shared/errors.ts'

/** The one i18n module: every string a person sees goes through `t`. French first. */
export const LANGUAGES = ['fr', 'en'] as const
export type Language = (typeof LANGUAGES)[number]
export type { MessageKey }

const dictionaries: Record<Language, Record<MessageKey, string>> = { fr, en }
const [language, setLanguageSignal] = createSignal<Language>('fr')

export { language }

export function isLanguage(value: unknown): value is Language {
  return (LANGUAGES as readonly unknown[]).includes(value)
}

export function setLanguage(lang: Language): void {
  setLanguageSignal(lang)
  if (typeof document !== 'undefined') document.documentElement.lang = lang
}

/** The language a new device starts in: French, unless the browser asks for English first. */
export function defaultLanguage(preferred: readonly string[]): Language {
  const first = preferred[0]?.toLowerCase() ?? 'fr'
  return first.startsWith('en') ? 'en' : 'fr'
}

/** Translates `key`, filling `{name}` placeholders from `params`. Reactive: reads the language signal. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = dictionaries[language()][key] ?? fr[key] ?? key
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`))
}

/** Words for a field issue's code. */
export const issueText = (code: IssueCode): string => t(`error.${code}` as MessageKey)

/** Words for a refusal reason (shared/errors.ts), or undefined when it has none. */
export function reasonText(reason: string): string | undefined {
  const key = `reason.${reason}` as MessageKey
  return key in fr ? t(key) : undefined
}

/** "il y a 5 min" / "5 min ago". */
export function timeAgo(at: number, now = Date.now()): string {
  const minutes = Math.floor((now - at) / 60_000)
  if (minutes < 1) return t('when.justNow')
  if (minutes < 60) return t('when.minutes', { n: minutes })
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return t('when.hours', { n: hours })
  return t('when.days', { n: Math.floor(hours / 24) })
}

/** A kind or category code in words; codes from a newer version fall back to a neutral word. */
export function kindText(kind: string): string {
  const key = `kind.${kind}` as MessageKey
  return key in fr ? t(key) : t('kind.unknown')
}

export function categoryText(category: string): string {
  const key = `category.${category}` as MessageKey
  return key in fr ? t(key) : t('category.other')
}

/**
 * One formatter per language and style: making an Intl.DateTimeFormat costs about as much as
 * rendering a post card (a profile of typing in the search box: 9 of 12 ms of the cards' rendering).
 */
const formatters = new Map<string, Intl.DateTimeFormat>()
function dateFormat(style: 'date and time' | 'time'): Intl.DateTimeFormat {
  const lang = language()
  const key = `${lang} ${style}`
  let format = formatters.get(key)
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', style === 'time' ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' })
    formatters.set(key, format)
  }
  return format
}

export function formatDate(at: number): string {
  return dateFormat('date and time').format(at)
}

/** A time of day: "10:42" / "10:42" (hours and minutes, as a clock shows them). */
export function formatTime(at: number): string {
  return dateFormat('time').format(at)
}
