import { For, Show, createMemo, createSignal } from 'solid-js'
import { formatDate, t } from '../../i18n/index.ts'
import { useApp } from '../../stores/app.tsx'
import type { BoardComment } from '../../stores/post.ts'
import type { PostRef } from '../../../shared/schema/feed.ts'
import type { CommentId } from '../../../shared/ids.ts'
import { Field } from '../../components/Field.tsx'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

/** Comments on any post; each person edits or deletes their own. */
export function Comments(props: { postRef: PostRef; comments: BoardComment[]; name: (id: string) => string }) {
  const app = useApp()
  const form = useFormErrors()
  const [body, setBody] = createSignal('')
  // Rows come back as new objects whenever the index changes (a pending mark clears): iterate over the
  // IDs, so a comment being edited keeps its open form.
  const byId = createMemo(() => new Map(props.comments.map((c) => [c.id, c])))
  const ids = createMemo(() => props.comments.map((c) => c.id), [], { equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]) })
  const send = (e: Event) => {
    e.preventDefault()
    void form.run(async () => {
      await app.comment(props.postRef, body())
      setBody('')
    })
  }
  return (
    <section class="section" aria-labelledby="comments-title">
      <h2 id="comments-title">{t('page.comments')}</h2>
      <Show when={props.comments.length} fallback={<p>{t('page.noComments')}</p>}>
        <ul class="people" aria-label={t('page.comments')}>
          <For each={ids()}>
            {(id) => <Show when={byId().get(id)}>{(c) => <CommentItem comment={c()} name={props.name(c().author)} mine={c().author === app.profile()?.id} />}</Show>}
          </For>
        </ul>
      </Show>
      <form onSubmit={send} novalidate>
        <FormAlert text={form.summary()} />
        <Field id="comment-body" label={t('page.comment')} error={form.error('')}>
          {(aria) => <textarea {...aria} rows="3" maxlength="2000" value={body()} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={form.busy()}>
            {t('page.commentSend')}
          </button>
        </div>
      </form>
    </section>
  )
}

function CommentItem(props: { comment: BoardComment; name: string; mine: boolean }) {
  const app = useApp()
  const form = useFormErrors()
  const [editing, setEditing] = createSignal(false)
  const [text, setText] = createSignal('')
  const id = () => props.comment.id as CommentId
  const fieldId = () => `edit-${props.comment.id}`
  return (
    <li class="person">
      <p>
        <strong>{props.name}</strong> · <time datetime={new Date(props.comment.createdAt).toISOString()}>{formatDate(props.comment.createdAt)}</time>
        <Show when={props.comment.updatedAt > props.comment.createdAt}> ({t('page.edited')})</Show>
        <Show when={props.comment.pending}>
          {' '}
          <span class="pending">{t('board.pending')}</span>
        </Show>
      </p>
      <FormAlert text={form.summary()} />
      <Show
        when={editing()}
        fallback={
          <>
            <p class="post__body">{props.comment.body}</p>
            <Show when={props.mine}>
              <div class="actions">
                <button
                  type="button"
                  class="button button--secondary"
                  onClick={() => {
                    setText(props.comment.body)
                    setEditing(true)
                  }}
                >
                  {t('page.commentEdit')}
                </button>
                <button type="button" class="button button--danger" disabled={form.busy()} onClick={() =>
                    form.run(async () => {
                      if (confirm(t('page.commentDeleteConfirm'))) await app.deleteComment(id())
                    })
                  }>
                  {t('page.commentDelete')}
                </button>
              </div>
            </Show>
          </>
        }
      >
        <Field id={fieldId()} label={t('page.comment')} error={form.error('')}>
          {(aria) => <textarea {...aria} rows="3" maxlength="2000" value={text()} onInput={(e) => setText(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="button" class="button" disabled={form.busy()} onClick={() =>
              form.run(async () => {
                await app.editComment(id(), text())
                setEditing(false)
              })
            }>
            {t('page.commentSave')}
          </button>
        </div>
      </Show>
    </li>
  )
}
