import { Show, createSignal, onCleanup } from 'solid-js'
import { formatTime, t, timeAgo } from '../i18n/index.ts'

/**
 * Where the device stands, always in view and in words: offline or online, how many changes are not
 * yet sent, when it last synced. Announced politely to screen readers when it changes.
 */
const LABELS = {
  open: 'status.online',
  offline: 'status.offline',
  unreachable: 'status.unreachable',
  refused: 'status.refused',
  busy: 'status.busy',
  connecting: 'status.connecting',
  'signed-out': 'status.signedOut',
} as const

/** Why the relay refused, in words (the relay's close reasons, sync-server/access). */
const REFUSALS: Record<string, 'status.refused.cutOff' | 'status.refused.invitationExpired' | 'status.refused.invitationUsedUp' | 'status.refused.invitationInvalid' | 'status.refused.notInvited'> = {
  'cut-off': 'status.refused.cutOff',
  'invitation-expired': 'status.refused.invitationExpired',
  'invitation-used-up': 'status.refused.invitationUsedUp',
  'invitation-invalid': 'status.refused.invitationInvalid',
  'not-invited': 'status.refused.notInvited',
}

export type ConnectionState = keyof typeof LABELS

export function StatusBar(props: {
  connection: ConnectionState
  /** The relay's reason when it refused. */
  refusal?: string
  /** When the device knocks again on a saturated relay (state `busy`). */
  retryAt?: number
  pendingChanges: number
  lastSync: number | undefined
  /** False before this device has a profile: there is nothing of its own to sync yet. */
  showSync: boolean
}) {
  const [now, setNow] = createSignal(Date.now())
  const timer = setInterval(() => setNow(Date.now()), 30_000)
  onCleanup(() => clearInterval(timer))

  const state = () => props.connection
  const label = () => {
    if (state() === 'busy') return t('status.busy', { time: formatTime(props.retryAt ?? Date.now()) })
    const refusal = state() === 'refused' && props.refusal ? REFUSALS[props.refusal] : undefined
    return t(refusal ?? LABELS[state()])
  }
  const pending = () =>
    props.pendingChanges === 0 ? t('status.pending.none') : props.pendingChanges === 1 ? t('status.pending.one') : t('status.pending.many', { count: props.pendingChanges })

  return (
    <section class="status" classList={{ [`status--${state()}`]: true }} aria-label={t('status.region')}>
      <p role="status" class="status__line">
        <span class="status__dot" aria-hidden="true" />
        <strong data-testid="connection">{label()}</strong>
        <Show when={props.showSync}>
          <span data-testid="pending">{pending()}</span>
          <span data-testid="last-sync">
            {props.lastSync ? t('status.lastSync', { when: timeAgo(props.lastSync, now()) }) : t('status.neverSynced')}
          </span>
        </Show>
      </p>
      <Show when={state() === 'offline' || state() === 'unreachable'}>
        <p class="status__hint">{t('status.offlineHint')}</p>
      </Show>
      <Show when={state() === 'busy'}>
        <p class="status__hint">{t('status.busyHint')}</p>
      </Show>
    </section>
  )
}
