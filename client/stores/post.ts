import type { Accessor } from 'solid-js'
import type { BoardAnswer, BoardComment, BoardPost } from '../db/db.ts'

export type { BoardAnswer, BoardComment, BoardPost }
import type { OutcomeRow } from '../../shared/projector.ts'
import type { PostRef } from '../../shared/schema/feed.ts'
import { useApp } from './app.tsx'
import { createLiveQuery } from './live.ts'

export interface PostPageData {
  post: BoardPost
  answers: BoardAnswer[]
  comments: BoardComment[]
  outcomes: OutcomeRow[]
}

/**
 * Everything about one post, live from the index: the post, the answers and comments other members
 * wrote about it in their own feeds, and what its author recorded. `null` when it does not exist
 * (or was deleted), `undefined` while loading.
 */
export function usePost(ref: Accessor<PostRef | undefined>): Accessor<PostPageData | null | undefined> {
  const { db } = useApp()
  return createLiveQuery(
    ref,
    async (r): Promise<PostPageData | null> => {
      if (!r) return null
      const post = await db.posts.get([r.feed, r.id])
      if (!post) return null
      const about = [r.feed, r.id] as [string, string]
      const [answers, comments, outcomes] = await Promise.all([
        db.answers.where('[postFeed+post]').equals(about).sortBy('createdAt'),
        db.comments.where('[postFeed+post]').equals(about).sortBy('createdAt'),
        db.outcomes.where('postFeed').equals(r.feed).filter((o) => o.post === r.id).toArray(),
      ])
      return { post, answers, comments, outcomes }
    },
    undefined,
  )
}
