/** Row factories for the Node tests of this folder. */
import type { CommentRow, PostRow } from '../../shared/projector.ts'
import type { CommentId, DocUrl, MemberId, PostId } from '../../shared/ids.ts'

export const NEIGHBOURHOOD = 'automerge:neighbourhood' as DocUrl
export const FEED = 'automerge:feedA' as DocUrl

export function postRow(id: string, fields: Partial<PostRow> = {}): PostRow {
  return {
    id: id as PostId,
    neighbourhood: NEIGHBOURHOOD,
    feed: FEED,
    author: 'member-a' as MemberId,
    kind: 'request',
    category: 'other',
    title: `Post ${id}`,
    body: '',
    createdAt: 1_000,
    updatedAt: 1_000,
    themes: [],
    status: 'open',
    accepted: [],
    acceptedAt: {},
    outcomes: {},
    ...fields,
  }
}

export function commentRow(id: string, on: PostRow, body: string, createdAt = 2_000): CommentRow {
  return {
    feed: 'automerge:feedB' as DocUrl,
    id: id as CommentId,
    author: 'member-b' as MemberId,
    neighbourhood: NEIGHBOURHOOD,
    postFeed: on.feed,
    post: on.id,
    body,
    createdAt,
    updatedAt: createdAt,
  }
}
