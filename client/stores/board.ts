import type { Accessor } from 'solid-js'
import type { BoardPost } from '../db/db.ts'
import { useApp } from './app.tsx'
import { createLiveQuery } from './live.ts'

export type { BoardPost }

/** The current neighbourhood's posts, newest first, live from the index. `undefined` while loading. */
export function useBoard(): Accessor<BoardPost[] | undefined> {
  const app = useApp()
  return createLiveQuery(
    () => app.profile()?.neighbourhood,
    async (n) =>
      n
        ? app.db.posts
            .where('[neighbourhood+createdAt]')
            .between([n, -Infinity], [n, Infinity])
            .reverse()
            .toArray()
        : [],
    undefined,
  )
}
