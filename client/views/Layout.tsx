import { Show, onMount, type ParentProps } from 'solid-js'
import { A, useLocation } from '@solidjs/router'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { StatusBar } from '../components/StatusBar.tsx'
import { StorageAlert } from '../components/StorageAlert.tsx'
import { DirectAsk } from '../components/DirectAsk.tsx'

/** The frame of every page: name, status, main menu (once there is a profile), the page. */
export function Layout(props: ParentProps) {
  const app = useApp()
  const location = useLocation()
  // The engine (Automerge, sync) loads once the first screen is painted: the board says when its first
  // page is (client/views/Board.tsx); every other screen is there with its frame.
  onMount(() => {
    if (!(location.pathname === '/' && app.profile())) app.screenShown()
  })
  // A neighbour's request to link directly is shown on every page; the link itself everywhere but /direct.
  const directLink = () => {
    const link = app.direct.relayLink()
    if (link.step !== 'asked' && link.step !== 'linking' && link.step !== 'connected') return undefined
    if (link.step !== 'asked' && location.pathname === '/direct') return undefined
    return { step: link.step, name: app.memberNames().get(link.peer.member) ?? t('direct.someone') }
  }
  return (
    <>
      <a class="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header class="top">
        <p class="brand">
          <img class="brand__icon" src="/icon.svg" alt="" width="32" height="32" /> {t('app.name')}
          <Show when={app.neighbourhood()}>{(n) => <span class="brand__place"> · {n().name}</span>}</Show>
        </p>
        <StatusBar
          connection={app.status.connection().state}
          refusal={(() => {
            const c = app.status.connection()
            return c.state === 'refused' ? c.message : undefined
          })()}
          retryAt={(() => {
            const c = app.status.connection()
            return c.state === 'busy' ? c.retryAt : undefined
          })()}
          pendingChanges={app.status.pendingChanges()}
          lastSync={app.status.lastSync()}
          showSync={!!app.profile()}
        />
        <Show when={app.profile()}>
          <nav aria-label={t('nav.main')}>
            <ul class="nav">
              <li>
                <A href="/" end>
                  {t('nav.board')}
                </A>
              </li>
              <li>
                <A href="/besoins">{t('nav.needs')}</A>
              </li>
              <li>
                <A href="/new">{t('nav.new')}</A>
              </li>
              <li>
                <A href="/voisins">{t('nav.neighbours')}</A>
              </li>
              <li>
                <A href="/invite">{t('nav.invite')}</A>
              </li>
              <li>
                <A href="/share">{t('nav.share')}</A>
              </li>
              <li>
                <A href="/settings">{t('nav.settings')}</A>
              </li>
            </ul>
          </nav>
        </Show>
      </header>
      <StorageAlert health={app.storage.health()} onRetry={app.storage.retry} />
      <Show when={directLink()}>
        {(l) => <DirectAsk step={l().step} name={l().name} onAccept={() => app.direct.acceptLink()} onDecline={() => app.direct.declineLink()} />}
      </Show>
      <main id="main" tabindex="-1">
        {props.children}
      </main>
    </>
  )
}
