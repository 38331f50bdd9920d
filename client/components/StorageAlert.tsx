import { Show, createSignal } from 'solid-js'
import { t } from '../i18n/index.ts'
import type { StorageHealthState } from '../sync/storage-health.ts'

/**
 * Said plainly, on every page, while the device refuses to save: what happened, that nothing is lost
 * while the page stays open, what to do. Stays until a write succeeds again.
 */
export function StorageAlert(props: { health: StorageHealthState; onRetry: () => Promise<void> }) {
  const [busy, setBusy] = createSignal(false)
  const retry = async () => {
    setBusy(true)
    try {
      await props.onRetry()
    } finally {
      setBusy(false)
    }
  }
  return (
    <Show when={props.health.problem}>
      {(problem) => (
        <section class="storage-alert" role="alert" aria-labelledby="storage-alert-title">
          <h2 id="storage-alert-title">{problem() === 'quota' ? t('storage.fullTitle') : t('storage.failedTitle')}</h2>
          <p>{t('storage.kept')}</p>
          <p>{problem() === 'quota' ? t('storage.fullHint') : t('storage.failedHint')}</p>
          <button type="button" class="button" disabled={busy()} onClick={() => void retry()}>
            {busy() ? t('storage.retrying') : t('storage.retry')}
          </button>
        </section>
      )}
    </Show>
  )
}
