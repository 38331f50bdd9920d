import { For, Show, createSignal } from 'solid-js'
import { t } from '../i18n/index.ts'
import type { CommuneMatch } from '../../shared/communes.ts'
import { Field } from './Field.tsx'

/**
 * Choose a commune by postcode or name, offline. A plain list of large buttons rather than a combobox:
 * easier to hit, and read out plainly by screen readers.
 */
export function CommunePicker(props: {
  value: CommuneMatch | undefined
  onChange: (c: CommuneMatch | undefined) => void
  search: (query: string) => CommuneMatch[]
  loading: boolean
  /** The list could not be loaded (offline before it was ever fetched). */
  unavailable?: boolean
  error?: string
}) {
  const [query, setQuery] = createSignal('')
  const results = () => props.search(query())
  return (
    <Show
      when={!props.value}
      fallback={
        <div class="field">
          <p class="chosen" role="status">
            {t('create.communeChosen', { name: props.value!.name, postcode: props.value!.postcode })}
          </p>
          <button type="button" class="button button--secondary" onClick={() => props.onChange(undefined)}>
            {t('create.communeChange')}
          </button>
        </div>
      }
    >
      <Field id="commune" label={t('create.commune')} hint={t('create.communeHint')} error={props.error}>
        {(aria) => (
          <input {...aria} type="search" autocomplete="off" inputmode="search" value={query()} onInput={(e) => setQuery(e.currentTarget.value)} />
        )}
      </Field>
      <Show when={props.loading}>
        <p>{t('create.communeLoading')}</p>
      </Show>
      <Show when={props.unavailable && !props.loading}>
        <p role="alert">{t('create.communeOffline')}</p>
      </Show>
      <Show when={query().trim().length >= 2 && !props.loading}>
        <Show when={results().length} fallback={<p>{t('create.communeNone')}</p>}>
          <ul class="choices" aria-label={t('create.commune')}>
            <For each={results()}>
              {(c) => (
                <li>
                  <button type="button" class="choice" onClick={() => props.onChange(c)}>
                    {c.name} <span class="muted">{c.postcode}</span>
                  </button>
                </li>
              )}
            </For>
          </ul>
        </Show>
      </Show>
    </Show>
  )
}
