import { Show } from 'solid-js'
import { A } from '@solidjs/router'
import { t } from '../i18n/index.ts'

/**
 * Shown on every page: a neighbour asks to link their phone directly to this one (accept or
 * decline), or the direct link being made or up, with whom.
 */
export function DirectAsk(props: { step: 'asked' | 'linking' | 'connected'; name: string; onAccept: () => void; onDecline: () => void }) {
  return (
    <Show
      when={props.step === 'asked'}
      fallback={
        <p class="direct-banner" role="status">
          {t(props.step === 'connected' ? 'direct.banner.linked' : 'direct.banner.linking', { name: props.name })} · <A href="/direct">{t('direct.banner.more')}</A>
        </p>
      }
    >
      {/* Announced, but focus is not taken: the person may be typing a post. */}
      <section class="direct-ask notice" aria-labelledby="direct-ask-title">
        <h2 id="direct-ask-title">{t('direct.asked.title')}</h2>
        <p role="alert">{t('direct.asked.text', { name: props.name })}</p>
        <div class="actions">
          <button type="button" class="button" onClick={() => props.onAccept()}>
            {t('direct.asked.accept')}
          </button>
          <button type="button" class="button button--secondary" onClick={() => props.onDecline()}>
            {t('direct.asked.decline')}
          </button>
        </div>
      </section>
    </Show>
  )
}
