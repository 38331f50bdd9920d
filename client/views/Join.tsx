import { Match, Switch, createEffect, createResource, createSignal, on } from 'solid-js'
import { useNavigate, useParams } from '@solidjs/router'
import type { DocUrl } from '../../shared/ids.ts'
import { isDocUrl } from '../../shared/ids.ts'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { Field } from '../components/Field.tsx'
import { useFormErrors } from './form-errors.ts'
import { FormAlert } from '../components/FormAlert.tsx'

/** Opened from an invitation link or QR code: shows which neighbourhood it is, then joins it. */
export function Join() {
  const app = useApp()
  const params = useParams<{ id: string }>()
  const navigate = useNavigate()
  const url = () => `automerge:${params.id}` as DocUrl
  // The signed invitation rides in the link's #fragment, which browsers never send to a server.
  const token = () => new URLSearchParams(location.hash.slice(1)).get('i') ?? undefined
  const [invitation] = createResource(token, async (tok) => {
    try {
      return await app.openInvitation(tok)
    } catch {
      return 'damaged' as const
    }
  })
  const expired = () => {
    const i = invitation()
    return typeof i === 'object' && i.expires < Date.now()
  }
  const [info, { refetch }] = createResource(
    () => (token() && invitation.loading ? undefined : url()),
    async (u) => (isDocUrl(u) ? ((await app.findNeighbourhood(u)) ?? null) : null),
  )
  // Not found while the relay was out of reach or turned us away (busy): look again as soon as it
  // lets us in, rather than leave the person to press "Réessayer".
  createEffect(
    on(
      () => app.status.connection().state === 'open',
      (open, wasOpen) => {
        if (open && !wasOpen && info() === null) void refetch()
      },
      { defer: true },
    ),
  )
  const [displayName, setDisplayName] = createSignal('')
  const form = useFormErrors()
  const already = () => app.profile()?.neighbourhood === url()

  const submit = async (e: Event) => {
    e.preventDefault()
    if (!displayName().trim()) return form.show([{ path: 'displayName', code: 'required', message: 'required' }])
    await form.run(async () => {
      await app.joinNeighbourhood(url(), displayName())
      navigate('/')
    })
  }

  return (
    <section class="page">
      <h1>{t('join.title')}</h1>
      <Switch>
        <Match when={already()}>
          <p>{t('join.already')}</p>
          <p>
            <a class="button" href="/">
              {t('nav.board')}
            </a>
          </p>
        </Match>
        <Match when={invitation() === 'damaged'}>
          <p role="alert">{t('join.damaged')}</p>
        </Match>
        <Match when={expired()}>
          <p role="alert">{t('join.expired')}</p>
        </Match>
        <Match when={info.loading || invitation.loading}>
          <p role="status">{t('join.looking')}</p>
        </Match>
        <Match when={info() === null || info.error}>
          <p role="alert">{t('join.notFound')}</p>
          <button type="button" class="button" onClick={() => refetch()}>
            {t('join.retry')}
          </button>
        </Match>
        <Match when={info()}>
          {(n) => (
            <form onSubmit={submit} novalidate>
              <p class="lead">{t('join.intro', { name: n().name, commune: n().commune.name })}</p>
              <p>{t('join.pendingHint')}</p>
              <FormAlert text={form.summary()} />
              <Field id="displayName" label={t('create.yourName')} hint={t('create.yourNameHint')} error={form.error('displayName')}>
                {(aria) => (
                  <input {...aria} type="text" maxlength="60" autocomplete="name" value={displayName()} onInput={(e) => setDisplayName(e.currentTarget.value)} />
                )}
              </Field>
              <div class="actions">
                <button type="submit" class="button" disabled={form.busy()}>
                  {t('join.submit')}
                </button>
              </div>
            </form>
          )}
        </Match>
      </Switch>
    </section>
  )
}
