/**
 * How a feed's records are written. Every string in them is an Automerge immutable string: one
 * operation, where a plain string becomes collaborative text, an operation per character. Nobody
 * co-edits a neighbour's post, and IDs, kinds and states are replaced whole, never edited: measured on
 * the catch-up of a 1,000-post board (bench/README.md), IDs and kinds as text were a fifth of the
 * bytes a device downloads. Readers get them back as objects holding `val`; the schemas in feed.ts
 * unwrap them (shared/validate.ts `plainString`), and a record written as text by an older version
 * reads the same.
 */
import * as A from '@automerge/automerge'
import type { AnswerRecord, CommentRecord, PostRef, PostRecord } from './feed.ts'

/** `text` as an Automerge immutable string, typed as the string it reads back as (one already stored stays as it is). */
export const immutable = <S extends string>(text: S): S => new A.ImmutableString(String(text)) as unknown as S

export const storedRef = (ref: PostRef): PostRef => ({ feed: immutable(ref.feed), id: immutable(ref.id) })

export function storedPost(post: PostRecord): PostRecord {
  const stored: PostRecord = {
    ...post,
    id: immutable(post.id),
    kind: immutable(post.kind),
    category: immutable(post.category),
    title: immutable(post.title),
    body: immutable(post.body),
  }
  if (post.themes) stored.themes = post.themes.map(immutable)
  if (post.status) stored.status = immutable(post.status)
  return stored
}

export const storedAnswer = (answer: AnswerRecord): AnswerRecord => ({ ...answer, id: immutable(answer.id), post: storedRef(answer.post), message: immutable(answer.message) })

export const storedComment = (comment: CommentRecord): CommentRecord => ({ ...comment, id: immutable(comment.id), post: storedRef(comment.post), body: immutable(comment.body) })

/** The same reference, whether it was written as immutable strings or as text. */
export const sameRef = (stored: PostRef, ref: PostRef): boolean => String(stored.feed) === ref.feed && String(stored.id) === ref.id
