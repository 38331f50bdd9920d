import { Match, Show, Switch, createSignal } from 'solid-js'
import { renderSVG } from 'uqr'
import { t, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { Field } from '../components/Field.tsx'
import { QrScanner, canScanQr } from '../components/QrScanner.tsx'
import { DirectNearby, type RelayLinkView } from '../components/DirectNearby.tsx'
import type { RelayLinkState } from '../stores/direct.ts'
import type { MemberId } from '../../shared/ids.ts'

/** A link made through the relay, with the other member's name, for the components that show it. */
export function relayLinkView(link: RelayLinkState, nameOf: (member: MemberId) => string | undefined): RelayLinkView {
  if (link.step === 'idle' || link.step === 'asked') return { step: link.step }
  const name = nameOf(link.peer.member) ?? t('direct.someone')
  return link.step === 'ended' ? { step: 'ended', name, why: link.why } : { step: link.step, name }
}

/**
 * Device to device. While the relay is reachable: the neighbours connected now, each a button away
 * from a direct link (signalled through the relay). With no relay and no internet: one phone shows a
 * code, the other scans or pastes it and shows its answer, the first scans or pastes that, and the two
 * sync directly over the Wi-Fi.
 */
export function Direct() {
  const app = useApp()
  const state = app.direct.state
  const [pasted, setPasted] = createSignal('')
  const [scanning, setScanning] = createSignal(false)
  const submitCode = (code: string) => {
    setScanning(false)
    setPasted('')
    const s = state()
    void (s.step === 'offering' ? app.direct.complete(code) : app.direct.answer(code))
  }
  const codeBox = (code: string, label: MessageKey) => (
    <>
      <figure class="qr" role="img" aria-label={t(label)} innerHTML={renderSVG(code, { border: 2, ecc: 'L' })} />
      <Field id="my-code" label={t('direct.myCodeText')}>
        {(aria) => <textarea {...aria} class="code" rows="4" readonly value={code} onFocus={(e) => e.currentTarget.select()} />}
      </Field>
    </>
  )
  const theirCode = (label: MessageKey, button: MessageKey) => (
    <form
      onSubmit={(e) => {
        e.preventDefault()
        submitCode(pasted())
      }}
      novalidate
    >
      <Show when={canScanQr()}>
        <Show
          when={scanning()}
          fallback={
            <button type="button" class="button button--secondary" onClick={() => setScanning(true)}>
              {t('direct.scan')}
            </button>
          }
        >
          <QrScanner label={t('direct.camera')} onCode={submitCode} onError={() => setScanning(false)} />
        </Show>
      </Show>
      <Field id="their-code" label={t(label)} hint={t('direct.pasteHint')}>
        {(aria) => <textarea {...aria} class="code" rows="4" value={pasted()} onInput={(e) => setPasted(e.currentTarget.value)} />}
      </Field>
      <div class="actions">
        <button type="submit" class="button">
          {t(button)}
        </button>
      </div>
    </form>
  )

  return (
    <section class="page">
      <h1>{t('direct.title')}</h1>
      <DirectNearby
        relayOpen={app.status.connection().state === 'open'}
        neighbours={app.direct.nearby().flatMap((d) => {
          const name = app.memberNames().get(d.member)
          return name ? [{ key: d.device as string, name }] : []
        })}
        link={relayLinkView(app.direct.relayLink(), (m) => app.memberNames().get(m))}
        onAsk={(key) => {
          const device = app.direct.nearby().find((d) => d.device === key)
          if (device) app.direct.askLink(device)
        }}
        onStop={() => app.direct.stopLink()}
      />
      <h2>{t('direct.codes.title')}</h2>
      <p class="lead">{t('direct.intro')}</p>
      <Switch>
        <Match when={state().step === 'idle' || state().step === 'closed' || state().step === 'failed'}>
          <Show when={state().step === 'failed'}>
            <p class="error" role="alert">
              {t(`direct.failed.${(state() as { reason: string }).reason}` as MessageKey)}
            </p>
          </Show>
          <Show when={state().step === 'closed'}>
            <p role="status">{t('direct.closed')}</p>
          </Show>
          <div class="actions">
            <button type="button" class="button" onClick={() => void app.direct.offer()}>
              {t('direct.start')}
            </button>
          </div>
          <h2>{t('direct.haveCode')}</h2>
          {theirCode('direct.theirOffer', 'direct.answer')}
        </Match>
        <Match when={state().step === 'preparing'}>
          <p role="status">{t('direct.preparing')}</p>
        </Match>
        <Match when={state().step === 'offering' && (state() as { code: string }).code}>
          {(code) => (
            <>
              <p>{t('direct.showOffer')}</p>
              {codeBox(code(), 'direct.offerQr')}
              <h2>{t('direct.thenAnswer')}</h2>
              {theirCode('direct.theirAnswer', 'direct.connect')}
            </>
          )}
        </Match>
        <Match when={state().step === 'answering' && (state() as { code: string }).code}>
          {(code) => (
            <>
              <p>{t('direct.showAnswer')}</p>
              {codeBox(code(), 'direct.answerQr')}
              <p role="status">{t('direct.waiting')}</p>
            </>
          )}
        </Match>
        <Match when={state().step === 'connected'}>
          <p class="notice" role="status">
            {t('direct.connected')}
          </p>
          <button type="button" class="button button--secondary" onClick={() => app.direct.close()}>
            {t('direct.disconnect')}
          </button>
        </Match>
      </Switch>
    </section>
  )
}
