import { createEffect, createSignal, on, onCleanup, type Accessor } from 'solid-js'
import { liveQuery } from 'dexie'

/**
 * A Solid accessor over a Dexie live query: re-runs when the rows it read change, and when `source`
 * (a reactive input such as the current neighbourhood) changes.
 */
export function createLiveQuery<S, T>(source: Accessor<S>, query: (s: S) => Promise<T>, initial: T, onError?: (e: unknown) => void): Accessor<T> {
  const [value, setValue] = createSignal<T>(initial)
  createEffect(
    on(source, (s) => {
      const subscription = liveQuery(() => query(s)).subscribe({ next: (v) => setValue(() => v), error: onError })
      onCleanup(() => subscription.unsubscribe())
    }),
  )
  return value
}
