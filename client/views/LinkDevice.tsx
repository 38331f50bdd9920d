import { Match, Show, Switch, createSignal, onCleanup } from 'solid-js'
import { useNavigate } from '@solidjs/router'
import { renderSVG } from 'uqr'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'

/**
 * One person, two devices (a phone and a tablet): the device that has the profile shows a code, on
 * request and for ten minutes; the other opens it (camera app, or the link) and becomes the same
 * member. Opened with `#d=…`, this page is the second device's side.
 */
export function LinkDevice() {
  const app = useApp()
  const navigate = useNavigate()
  const token = new URLSearchParams(location.hash.slice(1)).get('d') ?? undefined
  const [link, setLink] = createSignal<string>()
  const [error, setError] = createSignal<string>()
  const [busy, setBusy] = createSignal(false)
  let hide: ReturnType<typeof setTimeout> | undefined
  onCleanup(() => clearTimeout(hide))

  const show = async () => {
    setLink(`${location.origin}/relier#d=${await app.deviceLink()}`)
    clearTimeout(hide)
    hide = setTimeout(() => setLink(undefined), 10 * 60_000)
  }
  const accept = async () => {
    if (!token) return
    setBusy(true)
    setError(undefined)
    try {
      await app.linkThisDevice(token)
      history.replaceState(null, '', '/relier')
      navigate('/')
    } catch (e) {
      setError((e as { reason?: string }).reason === 'expired' ? t('link.expired') : t('link.damaged'))
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="page">
      <h1>{t('link.title')}</h1>
      <Switch>
        <Match when={token && !app.profile()}>
          <p class="lead">{t('link.acceptIntro')}</p>
          <Show when={error()}>
            <p role="alert">{error()}</p>
          </Show>
          <div class="actions">
            <button type="button" class="button" disabled={busy()} onClick={accept}>
              {t('link.accept')}
            </button>
          </div>
        </Match>
        <Match when={app.profile()}>
          <p class="lead">{t('link.intro')}</p>
          <p class="warning" role="note">
            {t('link.warning')}
          </p>
          <Show
            when={link()}
            fallback={
              <div class="actions">
                <button type="button" class="button" onClick={show}>
                  {t('link.show')}
                </button>
              </div>
            }
          >
            {(l) => (
              <>
                {/* uqr renders a plain SVG string from our own link: no user-controlled markup. */}
                <figure class="qr" role="img" aria-label={t('link.qr')} innerHTML={renderSVG(l(), { border: 2 })} />
                <p>
                  <label for="device-link">{t('link.link')}</label>
                  <input id="device-link" class="link" type="text" readonly value={l()} onFocus={(e) => e.currentTarget.select()} />
                </p>
                <div class="actions">
                  <button type="button" class="button button--secondary" onClick={() => setLink(undefined)}>
                    {t('link.hide')}
                  </button>
                </div>
              </>
            )}
          </Show>
        </Match>
        <Match when={true}>
          <p>{t('error.noProfile')}</p>
        </Match>
      </Switch>
    </section>
  )
}
