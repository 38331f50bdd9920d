import { A } from '@solidjs/router'
import { For, Show, createSignal } from 'solid-js'
import { LANGUAGES, language, t, type Language } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { StorageSection } from './settings/StorageSection.tsx'
import { BackupSection } from './settings/BackupSection.tsx'
import { LeaveSection } from './settings/LeaveSection.tsx'

const LANGUAGE_NAMES: Record<Language, string> = { fr: 'Français', en: 'English' }

export function Settings() {
  const app = useApp()
  const [rebuilt, setRebuilt] = createSignal(false)
  return (
    <section class="page">
      <h1>{t('settings.title')}</h1>
      <Show when={app.profile()}>
        {(p) => <p>{t('settings.profile', { name: p().displayName, neighbourhood: app.neighbourhood()?.name ?? '' })}</p>}
      </Show>
      <fieldset class="field">
        <legend>{t('settings.language')}</legend>
        <div class="radios">
          <For each={LANGUAGES}>
            {(lang) => (
              <label class="radio" lang={lang}>
                <input type="radio" name="language" value={lang} checked={language() === lang} onChange={() => void app.chooseLanguage(lang)} />
                {LANGUAGE_NAMES[lang]}
              </label>
            )}
          </For>
        </div>
      </fieldset>
      <StorageSection />
      <Show when={app.profile()}>
        <section class="section" aria-labelledby="devices-title">
          <h2 id="devices-title">{t('link.title')}</h2>
          <p>
            <A class="button button--secondary" href="/relier">
              {t('link.show')}
            </A>
          </p>
        </section>
        <BackupSection />
        <LeaveSection />
      </Show>
      <p>
        <button
          type="button"
          class="button button--secondary"
          onClick={async () => {
            await app.rebuildIndex()
            setRebuilt(true)
          }}
        >
          {t('settings.rebuild')}
        </button>
      </p>
      <Show when={rebuilt()}>
        <p role="status">{t('settings.rebuilt')}</p>
      </Show>
    </section>
  )
}
