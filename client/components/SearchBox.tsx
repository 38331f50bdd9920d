import { Show } from 'solid-js'
import { t } from '../i18n/index.ts'

/**
 * The board's search box: a labelled search field with a hint, and a large "clear" button once
 * something is typed. Results follow as you type; Enter only closes the phone's keyboard.
 */
export function SearchBox(props: { value: string; onInput: (text: string) => void; onFocus?: () => void }) {
  let input: HTMLInputElement | undefined
  return (
    <form
      role="search"
      class="search"
      onSubmit={(e) => {
        e.preventDefault()
        input?.blur()
      }}
    >
      <label for="board-search">{t('search.label')}</label>
      <p class="hint" id="board-search-hint">
        {t('search.hint')}
      </p>
      <div class="search__row">
        <input
          ref={(el) => (input = el)}
          id="board-search"
          type="search"
          autocomplete="off"
          enterkeyhint="search"
          aria-describedby="board-search-hint"
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
          onFocus={() => props.onFocus?.()}
        />
        <Show when={props.value}>
          <button
            type="button"
            class="button button--secondary"
            onClick={() => {
              props.onInput('')
              input?.focus()
            }}
          >
            {t('search.clear')}
          </button>
        </Show>
      </div>
    </form>
  )
}
