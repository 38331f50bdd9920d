import { For, Show, createSignal } from 'solid-js'
import { LANGUAGES, language, t, type Language } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { useStorageInfo } from '../stores/device.ts'

const LANGUAGE_NAMES: Record<Language, string> = { fr: 'Français', en: 'English' }

export function Settings() {
  const app = useApp()
  const [rebuilt, setRebuilt] = createSignal(false)
  const storage = useStorageInfo()
  const megabytes = (bytes: number) => (bytes / 1_000_000).toLocaleString(language() === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 })
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
      <section class="section" aria-labelledby="storage-title">
        <h2 id="storage-title">{t('settings.storage')}</h2>
        <Show when={storage.info()}>
          {(info) => (
            <>
              <p data-testid="storage-persisted">
                {info().persisted ? t('settings.persisted') : info().persisted === false ? t('settings.notPersisted') : t('settings.persistUnknown')}
              </p>
              <Show when={info().persisted === false}>
                <button type="button" class="button button--secondary" onClick={() => void storage.protect()}>
                  {t('settings.persist')}
                </button>
              </Show>
              <Show when={info().usage !== undefined && info().quota}>
                <p>{t('settings.usage', { used: megabytes(info().usage!), quota: megabytes(info().quota!) })}</p>
              </Show>
            </>
          )}
        </Show>
      </section>
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
