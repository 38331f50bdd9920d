import { Show } from 'solid-js'
import { A, useNavigate } from '@solidjs/router'
import { t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import type { BoardPost } from '../../stores/post.ts'
import type { DerivedStatus } from '../../../shared/lifecycle.ts'
import { isHelpKind } from '../../../shared/domain.ts'
import { postPath } from '../../components/PostCard.tsx'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

/** What the author can do next with their own post: mark it done, cancel it, renew it. */
export function AuthorActions(props: { post: BoardPost; status: DerivedStatus }) {
  const app = useApp()
  const form = useFormErrors()
  const open = () => props.status === 'open' || props.status === 'in-progress'

  return (
    <section class="section">
      <FormAlert text={form.summary()} />
      <Show when={props.status === 'expired'}>
        <p class="notice">{t('page.expiredAsk')}</p>
        <div class="actions">
          <button type="button" class="button" disabled={form.busy()} onClick={() => form.run(() => app.renew(props.post.id))}>
            {t('page.renew')}
          </button>
          <button type="button" class="button button--secondary" disabled={form.busy()} onClick={() => form.run(() => app.close(props.post.id, 'cancelled'))}>
            {t('page.cancel')}
          </button>
        </div>
      </Show>
      <Show when={open()}>
        <div class="actions">
          <Show when={isHelpKind(props.post.kind)}>
            <button type="button" class="button" disabled={form.busy()} onClick={() => form.run(() => app.close(props.post.id, 'done'))}>
              {t('page.done')}
            </button>
          </Show>
          <button type="button" class="button button--secondary" disabled={form.busy()} onClick={() => form.run(() => app.close(props.post.id, 'cancelled'))}>
            {t('page.cancel')}
          </button>
        </div>
      </Show>
    </section>
  )
}

/** The author edits or deletes their post (deleting erases its content from the document). */
export function ManagePost(props: { post: BoardPost }) {
  const app = useApp()
  const navigate = useNavigate()
  const form = useFormErrors()
  const remove = () =>
    form.run(async () => {
      if (!confirm(t('page.deleteConfirm'))) return
      await app.deletePost(props.post.id)
      navigate('/')
    })
  return (
    <section class="section">
      <FormAlert text={form.summary()} />
      <div class="actions">
        <A class="button button--secondary" href={`${postPath(props.post)}/edit`}>
          {t('page.edit')}
        </A>
        <button type="button" class="button button--danger" disabled={form.busy()} onClick={remove}>
          {t('page.delete')}
        </button>
      </div>
    </section>
  )
}
