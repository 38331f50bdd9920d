import { For, Show, createSignal } from 'solid-js'
import type { MemberId } from '../../shared/ids.ts'
import { A } from '@solidjs/router'
import { t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { UnverifiedNote } from '../components/UnverifiedNote.tsx'

/** A référent's two decisions about a member, each asked twice. */
function RoleButtons(props: { member: MemberId; name: string }) {
  const app = useApp()
  const [asking, setAsking] = createSignal<'referent' | 'revoked'>()
  const [failed, setFailed] = createSignal(false)
  const confirm = async () => {
    const role = asking()
    if (!role) return
    try {
      await app.setRole(props.member, role)
      setAsking(undefined)
    } catch {
      setFailed(true)
    }
  }
  return (
    <div class="actions">
      <Show
        when={asking()}
        fallback={
          <>
            <button type="button" class="button button--secondary" onClick={() => setAsking('referent')}>
              {t('neighbours.name', { name: props.name })}
            </button>
            <button type="button" class="button button--danger" onClick={() => setAsking('revoked')}>
              {t('neighbours.revoke', { name: props.name })}
            </button>
          </>
        }
      >
        {(role) => (
          <>
            <p role="alert" class="warning">
              {role() === 'referent' ? t('neighbours.nameConfirm', { name: props.name }) : t('neighbours.revokeConfirm', { name: props.name })}
            </p>
            <button type="button" class={role() === 'referent' ? 'button' : 'button button--danger'} onClick={confirm}>
              {t('neighbours.yes')}
            </button>
            <button type="button" class="button button--secondary" onClick={() => setAsking(undefined)}>
              {t('leave.no')}
            </button>
          </>
        )}
      </Show>
      <Show when={failed()}>
        <p role="alert">{t('neighbours.vouchFailed')}</p>
      </Show>
    </div>
  )
}

/**
 * The neighbourhood's members: who is a référent, who is a new neighbour waiting to be vouched for
 * (a référent, or two members, who know them in real life), and the button to vouch.
 */
export function Neighbours() {
  const app = useApp()
  const [busy, setBusy] = createSignal<MemberId>()
  const [error, setError] = createSignal(false)
  const me = () => app.members().find((m) => m.id === app.profile()?.id)
  const canVouch = () => me()?.status === 'referent' || me()?.status === 'member'
  const pending = () => app.members().filter((m) => m.status === 'pending')
  const others = () => app.members().filter((m) => m.status === 'referent' || m.status === 'member')
  const name = (id: MemberId) => app.memberNames().get(id) ?? '?'

  const vouch = async (id: MemberId) => {
    setBusy(id)
    setError(false)
    try {
      await app.vouch(id)
    } catch {
      setError(true)
    } finally {
      setBusy(undefined)
    }
  }

  return (
    <section class="page">
      <h1>{t('neighbours.title')}</h1>
      <Show when={me()?.status === 'pending'}>
        <p class="lead" role="note">
          {t('neighbours.youArePending')}
        </p>
      </Show>
      <Show when={error()}>
        <p role="alert">{t('neighbours.vouchFailed')}</p>
      </Show>
      <Show when={pending().length > 0}>
        <section class="section" aria-labelledby="pending-title">
          <h2 id="pending-title">{t('neighbours.pending')}</h2>
          <p>{t('neighbours.pendingHint')}</p>
          <ul class="people">
            <For each={pending()}>
              {(m) => (
                <li class="person">
                  <p>
                    <strong>{m.displayName}</strong> <span class="status-tag status-tag--pending">{t('member.pending')}</span>
                  </p>
                  <Show when={app.unverified().has(m.id)}>
                    <UnverifiedNote name={m.displayName} />
                  </Show>
                  <Show when={m.vouchedBy.length > 0}>
                    <p>{t('neighbours.vouchedBy', { names: m.vouchedBy.map(name).join(', ') })}</p>
                  </Show>
                  <Show when={canVouch() && m.id !== app.profile()?.id && !m.vouchedBy.includes(app.profile()!.id)}>
                    <button type="button" class="button" disabled={busy() === m.id} onClick={() => vouch(m.id)}>
                      {t('neighbours.vouch', { name: m.displayName })}
                    </button>
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </section>
      </Show>
      <section class="section" aria-labelledby="members-title">
        <h2 id="members-title">{t('neighbours.members', { count: others().length })}</h2>
        <ul class="people">
          <For each={others()}>
            {(m) => (
              <li class="person">
                <p>
                  <strong>{m.displayName}</strong>{' '}
                  <Show when={m.status === 'referent'}>
                    <span class="status-tag status-tag--referent">{t('member.referent')}</span>
                  </Show>
                </p>
                <Show when={app.unverified().has(m.id)}>
                  <UnverifiedNote name={m.displayName} />
                </Show>
                <Show when={m.id !== app.profile()?.id}>
                  <A class="button button--secondary" href={`/messages/${m.id}`}>
                    {t('messages.write', { name: m.displayName })}
                  </A>
                  <Show when={me()?.status === 'referent' && m.status === 'member'}>
                    <RoleButtons member={m.id} name={m.displayName} />
                  </Show>
                </Show>
              </li>
            )}
          </For>
        </ul>
      </section>
    </section>
  )
}
