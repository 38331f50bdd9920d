import { Show } from 'solid-js'
import { categoryText, formatDate, kindText, t } from '../i18n/index.ts'

export interface PostCardData {
  id: string
  kind: string
  category: string
  title: string
  body: string
  createdAt: number
  pending: boolean
}

/** One post on the board: what, who, when, and whether it has left this device yet. */
export function PostCard(props: { post: PostCardData; author: string }) {
  const headingId = () => `post-${props.post.id}`
  return (
    <article class="post" classList={{ [`post--${props.post.kind}`]: true }} aria-labelledby={headingId()}>
      <p class="post__meta">
        <span class="badge">{kindText(props.post.kind)}</span>
        <span>{categoryText(props.post.category)}</span>
      </p>
      <h3 id={headingId()}>{props.post.title}</h3>
      <Show when={props.post.body}>
        <p class="post__body">{props.post.body}</p>
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
