import { Show, type JSX } from 'solid-js'

/**
 * A labelled form field with an optional hint and error, wired for screen readers:
 * the label is always visible, the hint and the error are announced with the input.
 */
export function Field(props: {
  id: string
  label: string
  hint?: string
  error?: string
  children: (aria: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => JSX.Element
}) {
  const describedBy = () => [props.hint && `${props.id}-hint`, props.error && `${props.id}-error`].filter(Boolean).join(' ') || undefined
  return (
    <div class="field" classList={{ 'field--error': !!props.error }}>
      <label for={props.id}>{props.label}</label>
      <Show when={props.hint}>
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      </Show>
      {props.children({ id: props.id, 'aria-describedby': describedBy(), 'aria-invalid': props.error ? 'true' : undefined })}
      <Show when={props.error}>
        <p class="error" id={`${props.id}-error`}>
          {props.error}
        </p>
      </Show>
    </div>
  )
}
