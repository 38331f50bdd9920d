import { Show } from 'solid-js'
import { A } from '@solidjs/router'
import { categoryText, formatDate, kindText, t, type MessageKey } from '../i18n/index.ts'
import { deriveStatus } from '../../shared/lifecycle.ts'
import { docIdOf, type DocUrl } from '../../shared/ids.ts'
import { UnverifiedNote } from './UnverifiedNote.tsx'

export interface PostCardData {
  id: string
  feed: DocUrl
  kind: string
  category: string
  title: string
  body: string
  createdAt: number
  status: string
  expiresAt?: number
  acceptedAt: Record<string, number>
  pending: boolean
}

/** Where a post's own page is. */
export const postPath = (p: { feed: DocUrl; id: string }) => `/post/${docIdOf(p.feed)}/${p.id}`

/** One post on the board: what, its state, who, when, and whether it has left this device yet. */
export function PostCard(props: { post: PostCardData; author: string; now?: number; unverified?: boolean }) {
  const headingId = () => `post-${props.post.id}`
  const status = () => deriveStatus({ status: props.post.status, expiresAt: props.post.expiresAt, accepted: props.post.acceptedAt }, props.now ?? Date.now())
  return (
    <article class="post" classList={{ [`post--${props.post.kind}`]: true, 'post--closed': status() !== 'open' && status() !== 'in-progress' }} aria-labelledby={headingId()}>
      <p class="post__meta">
        <span class="badge">{kindText(props.post.kind)}</span>
        <span>{categoryText(props.post.category)}</span>
        <span class={`state state--${status()}`}>{t(`status.${status()}` as MessageKey)}</span>
      </p>
      <h3 id={headingId()}>
        <A href={postPath(props.post)}>{props.post.title}</A>
      </h3>
      <Show when={props.post.body}>
        <p class="post__body">{props.post.body}</p>
      </Show>
      <Show when={props.unverified}>
        <UnverifiedNote name={props.author} />
      </Show>
      <p class="post__footer">
        <span>{t('board.by', { name: props.author })}</span>
        <time datetime={new Date(props.post.createdAt).toISOString()}>{formatDate(props.post.createdAt)}</time>
        <Show when={props.post.pending}>
          <span class="pending">{t('board.pending')}</span>
        </Show>
      </p>
    </article>
  )
}
