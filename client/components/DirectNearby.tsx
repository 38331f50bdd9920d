import { For, Match, Show, Switch } from 'solid-js'
import { t, type MessageKey } from '../i18n/index.ts'

/** A link made through the relay, as the page shows it: what is happening, and with whom. */
export type RelayLinkView =
  | { step: 'idle' | 'asked' }
  | { step: 'asking' | 'linking' | 'connected'; name: string }
  | { step: 'ended'; name: string; why: 'declined' | 'busy' | 'cancelled' | 'no-answer' | 'failed' | 'closed' }

/**
 * "Voisins connectés en ce moment": the other members whose devices are on the relay, each with a
 * button to link directly, and where the link stands.
 */
export function DirectNearby(props: {
  relayOpen: boolean
  neighbours: { key: string; name: string }[]
  link: RelayLinkView
  onAsk: (key: string) => void
  onStop: () => void
}) {
  const busy = () => props.link.step === 'asking' || props.link.step === 'linking' || props.link.step === 'connected'
  const named = () => props.link as { name: string; step: string }
  return (
    <section aria-labelledby="nearby-title">
      <h2 id="nearby-title">{t('direct.nearby.title')}</h2>
      <p>{t('direct.nearby.why')}</p>
      <Switch>
        <Match when={props.link.step === 'asking'}>
          <p role="status">{t('direct.relay.asking', { name: named().name })}</p>
          <button type="button" class="button button--secondary" onClick={() => props.onStop()}>
            {t('direct.relay.cancel')}
          </button>
        </Match>
        <Match when={props.link.step === 'linking'}>
          <p role="status">{t('direct.relay.linking', { name: named().name })}</p>
          <button type="button" class="button button--secondary" onClick={() => props.onStop()}>
            {t('direct.relay.cancel')}
          </button>
        </Match>
        <Match when={props.link.step === 'connected'}>
          <p class="notice" role="status">
            {t('direct.relay.connected', { name: named().name })}
          </p>
          <button type="button" class="button button--secondary" onClick={() => props.onStop()}>
            {t('direct.disconnect')}
          </button>
        </Match>
        <Match when={props.link.step === 'ended' && (props.link as { why: string }).why}>
          {(why) => (
            <p role="status" classList={{ error: why() === 'failed' }}>
              {t(`direct.relay.ended.${why()}` as MessageKey, { name: named().name })}
            </p>
          )}
        </Match>
      </Switch>
      <Show when={!busy()}>
        <Show when={props.relayOpen} fallback={<p>{t('direct.nearby.noRelay')}</p>}>
          <Show when={props.neighbours.length > 0} fallback={<p>{t('direct.nearby.none')}</p>}>
            <ul class="nearby" aria-labelledby="nearby-title">
              <For each={props.neighbours}>
                {(n) => (
                  <li class="nearby__item">
                    <span class="nearby__name">{n.name}</span>
                    <button type="button" class="button" aria-label={t('direct.nearby.linkWith', { name: n.name })} onClick={() => props.onAsk(n.key)}>
                      {t('direct.nearby.link')}
                    </button>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </Show>
      </Show>
    </section>
  )
}
