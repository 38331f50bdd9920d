import { createEffect, createRoot, createSignal, on, onCleanup, type Accessor } from 'solid-js'
import Dexie from 'dexie'
import { useApp, type AppStore } from './app.tsx'
import type { PostFacet } from '../../shared/board-query.ts'
import type { PostSearchIndex, SearchHit } from './search-index.ts'
import type { CommentRow, PostRow } from '../../shared/projector.ts'

export type { SearchHit }

/** `idle` until someone reaches for search; `preparing` while the index is first built. */
export type SearchState = 'idle' | 'preparing' | 'ready' | 'failed'

/**
 * Offline full-text search over the current neighbourhood's posts and their comments.
 *
 * Nothing happens until `warm()`: then MiniSearch (a separate chunk) loads and the index is built from
 * the Dexie rows, so the board's first paint never waits for it. From then on every write to the posts
 * or comments (from this tab or another) reads them again, re-indexing only the posts that changed.
 */
export interface SearchStore {
  /** Starts building the index if it is not yet; call it when the person reaches for the search box. */
  warm(): void
  state: Accessor<SearchState>
  /**
   * Posts matching `query`, best first, kept only when `keep` accepts them (filters run on the facets
   * kept in the index, without reading the database). Reactive: re-runs when the index changes.
   * Empty until the index is ready.
   */
  search(query: string, keep?: (facet: PostFacet) => boolean): SearchHit[]
}

const stores = new WeakMap<AppStore, SearchStore>()

/** The app's one search index (built once, kept while the app runs, whichever page uses it). */
export function useSearch(): SearchStore {
  const app = useApp()
  let store = stores.get(app)
  if (!store) {
    store = createRoot(() => createSearchStore(app))
    stores.set(app, store)
  }
  return store
}

function createSearchStore(app: AppStore): SearchStore {
  const [started, setStarted] = createSignal(false)
  const [state, setState] = createSignal<SearchState>('idle')
  const [version, setVersion] = createSignal(0)
  let index: PostSearchIndex | undefined
  let generation = 0

  // Rows waiting to be indexed: only the latest set matters, so a burst of changes (a sync bringing
  // in a hundred posts) costs one or two passes, not a hundred.
  let latest: { gen: number; posts: PostRow[]; comments: CommentRow[] } | undefined
  let pumping = false
  async function pump() {
    if (pumping) return
    pumping = true
    try {
      if (!index) {
        const { PostSearchIndex } = await import('./search-index.ts')
        index = new PostSearchIndex()
      }
      while (latest) {
        const { gen, posts, comments } = latest
        latest = undefined
        // A neighbourhood switch simply discards the old posts.
        await index.sync(posts, comments)
        if (gen !== generation || latest) continue
        setVersion((v) => v + 1)
        setState('ready')
      }
    } catch (e) {
      fail(e)
    } finally {
      pumping = false
    }
  }

  createEffect(
    on(
      () => (started() ? app.profile()?.neighbourhood : undefined),
      (n) => {
        if (!n) return
        const gen = ++generation
        const hood = n
        setState('preparing')
        // Plain reads, woken by Dexie's mutation events, rather than a live query: a live query also
        // records every key it read (twenty thousand posts and comments), which cost more than the reads.
        const tables = [`idb://${app.db.name}/posts/`, `idb://${app.db.name}/comments/`]
        let reading = false
        let again = false
        let stopped = false
        async function read() {
          if (reading) return void (again = true)
          reading = true
          try {
            do {
              again = false
              const [posts, comments] = await app.db.transaction('r', app.db.posts, app.db.comments, () =>
                Promise.all([
                  app.db.posts.where('[neighbourhood+createdAt]').between([hood, -Infinity], [hood, Infinity]).toArray(),
                  app.db.comments.where('neighbourhood').equals(hood).toArray(),
                ]),
              )
              if (stopped) return
              latest = { gen, posts, comments }
              void pump()
            } while (again && !stopped)
          } catch (e) {
            fail(e)
          } finally {
            reading = false
          }
        }
        const onMutated = (parts: Record<string, unknown>) => {
          if (tables.some((t) => t in parts)) void read()
        }
        Dexie.on('storagemutated', onMutated)
        void read()
        onCleanup(() => {
          stopped = true
          Dexie.on('storagemutated').unsubscribe(onMutated)
        })
      },
    ),
  )

  function fail(e: unknown) {
    console.error('search index', e)
    setState('failed')
  }

  return {
    warm: () => setStarted(true),
    state,
    search(query, keep) {
      version()
      if (state() !== 'ready' || !index) return []
      return index.search(query, keep)
    },
  }
}
