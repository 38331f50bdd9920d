import { For, Show, createSignal } from 'solid-js'
import { useNavigate } from '@solidjs/router'
import { CATEGORIES, WRITABLE_KINDS, type Category } from '../../shared/domain.ts'
import { checkPostInput } from '../../shared/schema/feed.ts'
import { categoryText, t, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { Field } from '../components/Field.tsx'
import { useFormErrors } from './form-errors.ts'

/** Post a request or an offer. Works offline: the post is saved on the device and sent later. */
export function NewPost() {
  const app = useApp()
  const navigate = useNavigate()
  const [kind, setKind] = createSignal<(typeof WRITABLE_KINDS)[number]>('request')
  const [category, setCategory] = createSignal<Category | ''>('')
  const [title, setTitle] = createSignal('')
  const [body, setBody] = createSignal('')
  const form = useFormErrors()

  const submit = async (e: Event) => {
    e.preventDefault()
    const input = { kind: kind(), category: category(), title: title(), body: body() }
    const checked = checkPostInput(input)
    if (!checked.ok) return form.show(checked.issues)
    await form.run(async () => {
      await app.post(checked.value)
      navigate('/', { state: { notice: app.status.connection().state === 'open' ? 'post.saved' : 'post.savedOffline' } })
    })
  }

  return (
    <section class="page">
      <h1>{t('post.new.title')}</h1>
      <form onSubmit={submit} novalidate>
        <Show when={form.summary()}>
          <p class="error" role="alert">
            {form.summary()}
          </p>
        </Show>
        <fieldset class="field">
          <legend>{t('post.kind')}</legend>
          <div class="radios">
            <For each={WRITABLE_KINDS}>
              {(k) => (
                <label class="radio">
                  <input type="radio" name="kind" value={k} checked={kind() === k} onChange={() => setKind(k)} />
                  {t(`post.kind.${k}` as MessageKey)}
                </label>
              )}
            </For>
          </div>
        </fieldset>
        <Field id="category" label={t('post.category')} error={form.error('category')}>
          {(aria) => (
            <select {...aria} onChange={(e) => setCategory(e.currentTarget.value as Category | '')}>
              <option value="" selected={category() === ''}>
                {t('post.chooseCategory')}
              </option>
              <For each={CATEGORIES}>
                {(c) => (
                  <option value={c} selected={category() === c}>
                    {categoryText(c)}
                  </option>
                )}
              </For>
            </select>
          )}
        </Field>
        <Field id="title" label={t('post.title')} hint={t('post.titleHint')} error={form.error('title')}>
          {(aria) => <input {...aria} type="text" maxlength="120" value={title()} onInput={(e) => setTitle(e.currentTarget.value)} />}
        </Field>
        <Field id="body" label={t('post.body')} error={form.error('body')}>
          {(aria) => <textarea {...aria} rows="5" maxlength="4000" value={body()} onInput={(e) => setBody(e.currentTarget.value)} />}
        </Field>
        <div class="actions">
          <button type="submit" class="button" disabled={form.busy()}>
            {t('post.submit')}
          </button>
          <button type="button" class="button button--secondary" onClick={() => navigate('/')}>
            {t('post.cancel')}
          </button>
        </div>
      </form>
    </section>
  )
}
