import { Show, createSignal } from 'solid-js'
import { useNavigate } from '@solidjs/router'
import { t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'

/** Leaving the neighbourhood: said plainly, asked twice, and only with the relay in reach. */
export function LeaveSection() {
  const app = useApp()
  const navigate = useNavigate()
  const [asking, setAsking] = createSignal(false)
  const [busy, setBusy] = createSignal(false)
  const [failed, setFailed] = createSignal(false)
  const online = () => app.status.connection().state === 'open'
  const leave = async () => {
    setBusy(true)
    setFailed(false)
    try {
      await app.leave()
      navigate('/')
    } catch {
      setFailed(true)
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class="section" aria-labelledby="leave-title">
      <h2 id="leave-title">{t('leave.title')}</h2>
      <p>{t('leave.what')}</p>
      <Show when={online()} fallback={<p role="note">{t('leave.needsRelay')}</p>}>
        <Show
          when={asking()}
          fallback={
            <button type="button" class="button button--danger" onClick={() => setAsking(true)}>
              {t('leave.start')}
            </button>
          }
        >
          <p class="warning" role="alert">
            {t('leave.confirm', { name: app.neighbourhood()?.name ?? '' })}
          </p>
          <div class="actions">
            <button type="button" class="button button--danger" disabled={busy()} onClick={leave}>
              {t('leave.yes')}
            </button>
            <button type="button" class="button button--secondary" onClick={() => setAsking(false)}>
              {t('leave.no')}
            </button>
          </div>
        </Show>
      </Show>
      <Show when={failed()}>
        <p role="alert">{t('leave.failed')}</p>
      </Show>
    </section>
  )
}
