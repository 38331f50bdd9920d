import { Show } from 'solid-js'

/** A form's summary of what went wrong, announced at once to screen readers. */
export function FormAlert(props: { text: string | undefined }) {
  return (
    <Show when={props.text}>
      <p class="error" role="alert">
        {props.text}
      </p>
    </Show>
  )
}
