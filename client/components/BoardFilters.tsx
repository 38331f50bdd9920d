import { For, Show, type JSX } from 'solid-js'
import { CATEGORIES, POST_KINDS } from '../../shared/domain.ts'
import { categoryText, kindText, t, type MessageKey } from '../i18n/index.ts'
import { DEFAULT_PARAMS, ORDERS, STATUS_FILTERS, activeFilterCount, type BoardParams, type ThemeCount } from '../../shared/board-query.ts'

interface Option {
  value: string
  label: string
}

/**
 * "Trier et filtrer": a disclosure (closed until wanted, open while a filter is chosen) holding large
 * native selects with visible labels for kind, category, theme and state, the order (newest first or
 * near me) as two big radio buttons, and one button to clear them all.
 */
export function BoardFilters(props: {
  params: BoardParams
  themes: readonly ThemeCount[]
  /** What to say about the device's position while "near me" is chosen. */
  positionNote?: string
  open: boolean
  onToggle: (open: boolean) => void
  onChange: (change: Partial<BoardParams>) => void
}) {
  const active = () => activeFilterCount(props.params)
  const themeOptions = (): Option[] => {
    const known = props.themes.map((x) => ({ value: x.theme, label: t('filters.theme.option', { theme: x.theme, count: x.count }) }))
    const chosen = props.params.theme
    return chosen && !props.themes.some((x) => x.theme === chosen) ? [...known, { value: chosen, label: chosen }] : known
  }
  return (
    <details class="filters" open={props.open} onToggle={(e) => props.onToggle(e.currentTarget.open)}>
      <summary class="button button--secondary filters__summary">
        {t('filters.title')}
        <Show when={active()}>{(n) => <span class="filters__count">{n() === 1 ? t('filters.active.one') : t('filters.active.many', { count: n() })}</span>}</Show>
      </summary>
      <div class="filters__panel">
        <div class="filters__grid">
          <Select
            id="filter-kind"
            label={t('filters.kind')}
            value={props.params.kind}
            all={t('filters.kind.all')}
            options={POST_KINDS.map((k) => ({ value: k, label: kindText(k) }))}
            onChange={(kind) => props.onChange({ kind })}
          />
          <Select
            id="filter-category"
            label={t('filters.category')}
            value={props.params.category}
            all={t('filters.category.all')}
            options={CATEGORIES.map((c) => ({ value: c, label: categoryText(c) }))}
            onChange={(category) => props.onChange({ category })}
          />
          <Show when={themeOptions().length}>
            <Select
              id="filter-theme"
              label={t('filters.theme')}
              value={props.params.theme}
              all={t('filters.theme.all')}
              options={themeOptions()}
              onChange={(theme) => props.onChange({ theme })}
            />
          </Show>
          <Select
            id="filter-status"
            label={t('filters.status')}
            value={props.params.status}
            options={STATUS_FILTERS.map((s) => ({ value: s, label: t(`filters.status.${s}` as MessageKey) }))}
            onChange={(status) => props.onChange({ status: status as BoardParams['status'] })}
          />
        </div>
        <fieldset class="field">
          <legend>{t('filters.order')}</legend>
          <div class="radios">
            <For each={ORDERS}>
              {(order) => (
                <label class="radio">
                  <input type="radio" name="board-order" value={order} checked={props.params.order === order} onChange={() => props.onChange({ order })} />
                  {t(`filters.order.${order}` as MessageKey)}
                </label>
              )}
            </For>
          </div>
          <Show when={props.params.order === 'near' && props.positionNote}>
            <p class="hint" role="status">
              {props.positionNote}
            </p>
          </Show>
        </fieldset>
        <Show when={active() || props.params.order !== DEFAULT_PARAMS.order}>
          <button type="button" class="button button--secondary" onClick={() => props.onChange({ ...DEFAULT_PARAMS, q: props.params.q })}>
            {t('filters.clear')}
          </button>
        </Show>
      </div>
    </details>
  )
}

/** A labelled native select; `all` adds a first "any" choice with the empty value. */
function Select(props: { id: string; label: string; value: string; all?: string; options: readonly Option[]; onChange: (value: string) => void }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <Show when={props.all}>
          <option value="" selected={props.value === ''}>
            {props.all}
          </option>
        </Show>
        <For each={props.options}>
          {(o) => (
            <option value={o.value} selected={props.value === o.value}>
              {o.label}
            </option>
          )}
        </For>
      </select>
    </div>
  )
}
