import { Show, createSignal } from 'solid-js'
import { language, t } from '../../i18n/index.ts'
import { useStorageInfo } from '../../stores/device.ts'

/** What this device does with Placette's data: protected from eviction or not, and the room it takes. */
export function StorageSection() {
  const storage = useStorageInfo()
  const [refused, setRefused] = createSignal(false)
  const megabytes = (bytes: number) => (bytes / 1_000_000).toLocaleString(language() === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: 1 })
  const protect = async () => setRefused((await storage.protect()) === false)
  return (
    <section class="section" aria-labelledby="storage-title">
      <h2 id="storage-title">{t('settings.storage')}</h2>
      <p>{t('settings.persistWhat')}</p>
      <Show when={storage.info()}>
        {(info) => (
          <>
            <p data-testid="storage-persisted">
              <strong>{info().persisted ? t('settings.persisted') : info().persisted === false ? t('settings.notPersisted') : t('settings.persistUnknown')}</strong>
            </p>
            <Show when={info().persisted === false}>
              <button type="button" class="button button--secondary" onClick={() => void protect()}>
                {t('settings.persist')}
              </button>
            </Show>
            <Show when={refused() && info().persisted === false}>
              <p role="status">{t('settings.persistRefused')}</p>
            </Show>
            <Show when={info().usage !== undefined}>
              <p data-testid="storage-usage">
                {info().quota
                  ? t('settings.usage', { used: megabytes(info().usage!), quota: megabytes(info().quota!) })
                  : t('settings.usageOnly', { used: megabytes(info().usage!) })}
              </p>
            </Show>
          </>
        )}
      </Show>
    </section>
  )
}
