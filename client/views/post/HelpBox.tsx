import { Show, createSignal } from 'solid-js'
import { reasonText, t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import type { BoardAnswer, BoardPost } from '../../stores/post.ts'
import { canAnswer, type DerivedStatus } from '../../../shared/lifecycle.ts'
import { isHelpKind } from '../../../shared/domain.ts'
import { Field } from '../../components/Field.tsx'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

/** For a neighbour reading someone else's post: "I can help", or where their offer stands. */
export function HelpBox(props: { post: BoardPost; answers: BoardAnswer[]; status: DerivedStatus }) {
  const app = useApp()
  const form = useFormErrors()
  const [message, setMessage] = createSignal('')
  const me = () => app.profile()?.id
  const myAnswer = () => props.answers.find((a) => a.author === me() && !a.withdrawn)
  const chosen = () => !!me() && me()! in props.post.acceptedAt
  const decision = () => (me() ? canAnswer({ ...props.post, accepted: props.post.acceptedAt, helpers: [] }, me()!, Date.now()) : undefined)
  const refusal = () => {
    const d = decision()
    return d && !d.ok ? reasonText(d.reason) : undefined
  }
  const ref = () => ({ feed: props.post.feed, id: props.post.id })

  const send = (e: Event) => {
    e.preventDefault()
    void form.run(async () => {
      await app.answer(ref(), message())
      setMessage('')
    })
  }

  return (
    <Show when={isHelpKind(props.post.kind)}>
      <section class="section" aria-labelledby="help-title">
        <FormAlert text={form.summary()} />
        <Show
          when={!myAnswer()}
          fallback={
            <>
              <p class="notice" role="status">
                {chosen() ? t('page.youAccepted') : t('page.youHelp')}
              </p>
              <Show when={!chosen() && decision()?.ok}>
                <button type="button" class="button button--secondary" disabled={form.busy()} onClick={() => form.run(() => app.withdrawAnswer(ref()))}>
                  {t('page.withdraw')}
                </button>
              </Show>
            </>
          }
        >
          <Show when={decision()?.ok} fallback={<p>{refusal()}</p>}>
            <form onSubmit={send} novalidate>
              <h2 id="help-title">{t('page.help')}</h2>
              <Field id="help-message" label={t('page.helpMessage')} hint={t('page.helpHint')} error={form.error('')}>
                {(aria) => <textarea {...aria} rows="3" maxlength="1000" value={message()} onInput={(e) => setMessage(e.currentTarget.value)} />}
              </Field>
              <div class="actions">
                <button type="submit" class="button" disabled={form.busy()}>
                  {t('page.help')}
                </button>
              </div>
            </form>
          </Show>
        </Show>
      </section>
    </Show>
  )
}
