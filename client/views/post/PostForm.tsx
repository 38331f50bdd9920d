import { For, Show, createSignal } from 'solid-js'
import { CATEGORIES, WRITABLE_KINDS, parseThemes, type Category } from '../../../shared/domain.ts'
import { checkPostInput, type PostInput } from '../../../shared/schema/feed.ts'
import { blurPlace, type Place } from '../../../shared/place.ts'
import { categoryText, t, type MessageKey } from '../../i18n/index.ts'
import { Field } from '../../components/Field.tsx'
import { useFormErrors } from '../form-errors.ts'
import { FormAlert } from '../../components/FormAlert.tsx'

type Kind = (typeof WRITABLE_KINDS)[number]

export interface PostFormValues {
  kind: Kind
  category: Category | ''
  title: string
  body: string
  themes: string
  start: string
  end: string
  place?: Place
}

const toLocalInput = (ms?: number) => (ms ? new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '')
const fromLocalInput = (value: string) => (value ? new Date(value).getTime() : undefined)

/** The form's values for an existing post (for editing). */
export function valuesOf(p: { kind: string; category: string; title: string; body: string; themes: string[]; whenStart?: number; whenEnd?: number; lat?: number; lon?: number }): PostFormValues {
  return {
    kind: (WRITABLE_KINDS as readonly string[]).includes(p.kind) ? (p.kind as Kind) : 'request',
    category: (CATEGORIES as readonly string[]).includes(p.category) ? (p.category as Category) : '',
    title: p.title,
    body: p.body,
    themes: p.themes.join(', '),
    start: toLocalInput(p.whenStart),
    end: toLocalInput(p.whenEnd),
    place: p.lat !== undefined && p.lon !== undefined ? { lat: p.lat, lon: p.lon } : undefined,
  }
}

/**
 * Writing a post: what kind, which category, a title, details, and optionally themes, a date and an
 * approximate place. Checked with the same validator the command uses; nothing typed is lost on error.
 */
export function PostForm(props: { initial?: PostFormValues; canPostInfo: boolean; submitLabel: string; onSubmit: (input: PostInput) => Promise<void>; onCancel: () => void }) {
  const init = props.initial
  const [kind, setKind] = createSignal<Kind>(init?.kind ?? 'request')
  const [category, setCategory] = createSignal<Category | ''>(init?.category ?? '')
  const [title, setTitle] = createSignal(init?.title ?? '')
  const [body, setBody] = createSignal(init?.body ?? '')
  const [themes, setThemes] = createSignal(init?.themes ?? '')
  const [start, setStart] = createSignal(init?.start ?? '')
  const [end, setEnd] = createSignal(init?.end ?? '')
  const [place, setPlace] = createSignal<Place | undefined>(init?.place)
  const [placeError, setPlaceError] = createSignal(false)
  const form = useFormErrors()
  const kinds = () => WRITABLE_KINDS.filter((k) => k !== 'info' || props.canPostInfo)

  const locate = () => {
    setPlaceError(false)
    navigator.geolocation?.getCurrentPosition(
      // Blurred at once: the exact position is not kept, not even in the form.
      (pos) => setPlace(blurPlace({ lat: pos.coords.latitude, lon: pos.coords.longitude })),
      () => setPlaceError(true),
      { enableHighAccuracy: false, timeout: 15_000, maximumAge: 600_000 },
    )
  }

  const submit = async (e: Event) => {
    e.preventDefault()
    const startMs = fromLocalInput(start())
    const endMs = fromLocalInput(end())
    const input = {
      kind: kind(),
      category: category(),
      title: title(),
      body: body(),
      ...(parseThemes(themes()).length ? { themes: parseThemes(themes()) } : {}),
      ...(startMs !== undefined ? { when: endMs !== undefined ? { start: startMs, end: endMs } : { start: startMs } } : {}),
      ...(place() ? { place: place() } : {}),
    }
    const checked = checkPostInput(input)
    if (!checked.ok) return form.show(checked.issues)
    await form.run(() => props.onSubmit(checked.value))
  }

  return (
    <form onSubmit={submit} novalidate>
      <FormAlert text={form.summary()} />
      <fieldset class="field">
        <legend>{t('post.kind')}</legend>
        <div class="radios">
          <For each={kinds()}>
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
      <Field id="themes" label={t('post.themes')} hint={t('post.themesHint')} error={form.error('themes')}>
        {(aria) => <input {...aria} type="text" value={themes()} onInput={(e) => setThemes(e.currentTarget.value)} />}
      </Field>
      <Field id="when-start" label={t('post.when')} hint={t('post.whenHint')} error={form.error('when')}>
        {(aria) => <input {...aria} type="datetime-local" value={start()} onInput={(e) => setStart(e.currentTarget.value)} />}
      </Field>
      <Show when={start()}>
        <Field id="when-end" label={t('post.whenEnd')}>
          {(aria) => <input {...aria} type="datetime-local" min={start()} value={end()} onInput={(e) => setEnd(e.currentTarget.value)} />}
        </Field>
      </Show>
      <fieldset class="field">
        <legend>{t('post.place')}</legend>
        <p class="hint">{t('post.placeHint')}</p>
        <Show
          when={place()}
          fallback={
            <button type="button" class="button button--secondary" onClick={locate}>
              {t('post.placeUse')}
            </button>
          }
        >
          <p role="status">{t('post.placeSet')}</p>
          <button type="button" class="button button--secondary" onClick={() => setPlace(undefined)}>
            {t('post.placeRemove')}
          </button>
        </Show>
        <Show when={placeError()}>
          <p class="error">{t('post.placeFailed')}</p>
        </Show>
      </fieldset>
      <div class="actions">
        <button type="submit" class="button" disabled={form.busy()}>
          {props.submitLabel}
        </button>
        <button type="button" class="button button--secondary" onClick={() => props.onCancel()}>
          {t('post.cancel')}
        </button>
      </div>
    </form>
  )
}
