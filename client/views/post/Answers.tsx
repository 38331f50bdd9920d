import { For, Show } from 'solid-js'
import { t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import { isHelpKind } from '../../../shared/domain.ts'
import { isClosed, type DerivedStatus } from '../../../shared/lifecycle.ts'
import type { BoardAnswer, BoardPost } from '../../stores/post.ts'
import type { MemberId } from '../../../shared/ids.ts'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

/** Who offered to help; the author accepts from here. */
export function Answers(props: { post: BoardPost; answers: BoardAnswer[]; status: DerivedStatus; mine: boolean; name: (id: string) => string }) {
  const app = useApp()
  const form = useFormErrors()
  const live = () => props.answers.filter((a) => !a.withdrawn)
  return (
    <Show when={isHelpKind(props.post.kind)}>
      <section class="section" aria-labelledby="answers-title">
        <h2 id="answers-title">{t('page.answers')}</h2>
        <FormAlert text={form.summary()} />
        <Show when={live().length} fallback={<p>{t('page.noAnswers')}</p>}>
          <ul class="people">
            <For each={live()}>
              {(a) => {
                const accepted = () => a.author in props.post.acceptedAt
                return (
                  <li class="person">
                    <p>
                      <strong>{props.name(a.author)}</strong>
                      <Show when={accepted()}>
                        {' '}
                        — <span class="state state--open">{t('page.accepted')}</span>
                      </Show>
                    </p>
                    <Show when={a.message}>
                      <p>{a.message}</p>
                    </Show>
                    <Show when={a.pending}>
                      <p class="pending">{t('board.pending')}</p>
                    </Show>
                    <Show when={props.mine && !accepted() && !isClosed(props.status)}>
                      <button type="button" class="button" disabled={form.busy()} onClick={() => form.run(() => app.accept(props.post.id, a.author as MemberId))}>
                        {t('page.accept', { name: props.name(a.author) })}
                      </button>
                    </Show>
                  </li>
                )
              }}
            </For>
          </ul>
        </Show>
      </section>
    </Show>
  )
}
