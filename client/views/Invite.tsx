import { Show, createSignal } from 'solid-js'
import { renderSVG } from 'uqr'
import { docIdOf } from '../../shared/ids.ts'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'

/**
 * The invitation: a link and its QR code. For now the link carries the neighbourhood's ID; the
 * membership work replaces it with a signed, expiring invitation.
 */
export function Invite() {
  const app = useApp()
  const [copied, setCopied] = createSignal(false)
  const link = () => {
    const p = app.profile()
    return p ? `${location.origin}/join/${docIdOf(p.neighbourhood)}` : ''
  }
  const copy = async () => {
    await navigator.clipboard?.writeText(link())
    setCopied(true)
  }
  const share = () => navigator.share?.({ title: t('invite.title'), url: link() })
  return (
    <section class="page">
      <h1>{t('invite.title')}</h1>
      <Show when={app.profile()} fallback={<p>{t('error.noProfile')}</p>}>
        <p class="lead">{t('invite.intro', { name: app.neighbourhood()?.name ?? '' })}</p>
        {/* uqr renders a plain SVG string from our own link: no user-controlled markup. */}
        <figure class="qr" role="img" aria-label={t('invite.qr')} innerHTML={renderSVG(link(), { border: 2 })} />
        <p>
          <label for="invite-link">{t('invite.link')}</label>
          <input id="invite-link" class="link" type="text" readonly value={link()} onFocus={(e) => e.currentTarget.select()} />
        </p>
        <div class="actions">
          <button type="button" class="button" onClick={copy}>
            {t('invite.copy')}
          </button>
          <Show when={typeof navigator.share === 'function'}>
            <button type="button" class="button button--secondary" onClick={share}>
              {t('invite.share')}
            </button>
          </Show>
        </div>
        <Show when={copied()}>
          <p role="status">{t('invite.copied')}</p>
        </Show>
      </Show>
    </section>
  )
}
