import { For, Show, createSignal } from 'solid-js'
import { t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import type { BoardPost } from '../../stores/post.ts'
import type { OutcomeRow } from '../../../shared/projector.ts'
import type { DerivedStatus } from '../../../shared/lifecycle.ts'
import type { MemberId } from '../../../shared/ids.ts'
import { Field } from '../../components/Field.tsx'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

/** Once it is done: the author thanks each accepted helper (or records a no-show); everyone sees the thanks. */
export function Outcomes(props: { post: BoardPost; outcomes: OutcomeRow[]; status: DerivedStatus; mine: boolean; name: (id: string) => string }) {
  const waiting = () => (props.mine && props.status === 'done' ? props.post.accepted.filter((h) => !props.outcomes.some((o) => o.helper === h)) : [])
  return (
    <Show when={props.outcomes.length || waiting().length}>
      <section class="section">
        <ul class="people">
          <For each={props.outcomes}>
            {(o) => (
              <li class="person">
                <p>
                  <strong>
                    {o.kind === 'thanks' ? t('page.thanked', { from: props.name(o.from), helper: props.name(o.helper) }) : t('page.noShowRecorded', { helper: props.name(o.helper) })}
                  </strong>
                </p>
                <Show when={o.note}>
                  <p>« {o.note} »</p>
                </Show>
              </li>
            )}
          </For>
          <For each={waiting()}>{(helper) => <ThankForm post={props.post} helper={helper} name={props.name(helper)} />}</For>
        </ul>
      </section>
    </Show>
  )
}

function ThankForm(props: { post: BoardPost; helper: MemberId; name: string }) {
  const app = useApp()
  const form = useFormErrors()
  const [note, setNote] = createSignal('')
  const id = () => `thanks-${props.helper}`
  return (
    <li class="person">
      <form
        onSubmit={(e) => {
          e.preventDefault()
          void form.run(() => app.thank(props.post.id, props.helper, note()))
        }}
        novalidate
      >
        <FormAlert text={form.summary()} />
        <Field id={id()} label={t('page.thankNote', { name: props.name })}>
          {(aria) => <textarea {...aria} rows="2" maxlength="500" value={note()} onInput={(e) => setNote(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={form.busy()}>
            {t('page.thank', { name: props.name })}
          </button>
          <button type="button" class="button button--secondary" disabled={form.busy()} onClick={() => form.run(() => app.noShow(props.post.id, props.helper))}>
            {t('page.noShow', { name: props.name })}
          </button>
        </div>
      </form>
    </li>
  )
}
