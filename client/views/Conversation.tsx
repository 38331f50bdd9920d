import { For, Show, createSignal, onCleanup } from 'solid-js'
import { useParams } from '@solidjs/router'
import type { MemberId } from '../../shared/ids.ts'
import type { ChatMessage } from '../stores/commands.ts'
import { formatDate, t } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { Field } from '../components/Field.tsx'
import { FormAlert } from '../components/FormAlert.tsx'
import { useFormErrors } from './form-errors.ts'

/**
 * A private conversation with one neighbour. Messages are sealed on this device for the two of them:
 * the relay, and every other neighbour, hold only ciphertext. Works offline like everything else.
 */
export function Conversation() {
  const app = useApp()
  const params = useParams<{ member: string }>()
  const them = () => params.member as MemberId
  const name = () => app.memberNames().get(them()) ?? '…'
  const [messages, setMessages] = createSignal<ChatMessage[]>([])
  const [text, setText] = createSignal('')
  const form = useFormErrors()
  let stop: (() => void) | undefined
  let stopped = false
  void app.watchConversation(them(), setMessages).then((s) => (stopped ? s() : (stop = s)), () => undefined)
  onCleanup(() => {
    stopped = true
    stop?.()
  })

  const send = async (e: Event) => {
    e.preventDefault()
    if (!text().trim()) return form.show([{ path: 'message', code: 'required', message: 'required' }])
    await form.run(async () => {
      await app.sendMessage(them(), text())
      setText('')
    })
  }

  return (
    <section class="page">
      <h1>{t('messages.title', { name: name() })}</h1>
      <p class="lead">{t('messages.private', { name: name() })}</p>
      <Show when={messages().length > 0} fallback={<p>{t('messages.none')}</p>}>
        <ol class="messages" aria-label={t('messages.list')}>
          <For each={messages()}>
            {(m) => (
              <li class="message" classList={{ 'message--mine': m.from === app.profile()?.id }}>
                <p class="message__meta">
                  <strong>{m.from === app.profile()?.id ? t('messages.me') : name()}</strong> · <time datetime={new Date(m.at).toISOString()}>{formatDate(m.at)}</time>
                </p>
                <p>{m.text ?? t('messages.unreadable')}</p>
              </li>
            )}
          </For>
        </ol>
      </Show>
      <form onSubmit={send} novalidate>
        <FormAlert text={form.summary()} />
        <Field id="message" label={t('messages.write', { name: name() })} error={form.error('message')}>
          {(aria) => <textarea {...aria} rows="3" maxlength="2000" value={text()} onInput={(e) => setText(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={form.busy()}>
            {t('messages.send')}
          </button>
        </div>
      </form>
    </section>
  )
}
