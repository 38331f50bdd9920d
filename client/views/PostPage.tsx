import { For, Show } from 'solid-js'
import { A, useParams } from '@solidjs/router'
import { categoryText, formatDate, kindText, t, type MessageKey } from '../i18n/index.ts'
import { useApp } from '../stores/app.tsx'
import { usePost } from '../stores/post.ts'
import { deriveStatus } from '../../shared/lifecycle.ts'
import type { DocUrl, PostId } from '../../shared/ids.ts'
import type { PostRef } from '../../shared/schema/feed.ts'
import { Answers } from './post/Answers.tsx'
import { AuthorActions, ManagePost } from './post/AuthorActions.tsx'
import { Comments } from './post/Comments.tsx'
import { HelpBox } from './post/HelpBox.tsx'
import { Outcomes } from './post/Outcomes.tsx'
import { UnverifiedNote } from '../components/UnverifiedNote.tsx'

/** A post's own page: everything about it, its answers and comments, and what you can do next. */
export function PostPage() {
  const app = useApp()
  const params = useParams<{ feed: string; id: string }>()
  const ref = (): PostRef => ({ feed: `automerge:${params.feed}` as DocUrl, id: params.id as PostId })
  const data = usePost(ref)
  const name = (id: string) => app.memberNames().get(id as never) ?? '…'

  return (
    <section class="page">
      <p>
        <A href="/">{t('page.back')}</A>
      </p>
      <Show when={data() !== undefined} fallback={<p>{t('board.loading')}</p>}>
        <Show when={data()} fallback={<p role="alert">{t('page.notFound')}</p>}>
          {(d) => {
            const post = () => d().post
            const status = () => deriveStatus({ status: post().status, expiresAt: post().expiresAt, accepted: post().acceptedAt }, Date.now())
            const mine = () => app.profile()?.id === post().author
            return (
              <>
                <article class={`post post--${post().kind}`} aria-labelledby="post-title">
                  <p class="post__meta">
                    <span class="badge">{kindText(post().kind)}</span>
                    <span>{categoryText(post().category)}</span>
                    <span class={`state state--${status()}`} data-testid="post-status">
                      {t(`status.${status()}` as MessageKey)}
                    </span>
                  </p>
                  <h1 id="post-title">{post().title}</h1>
                  <Show when={post().body}>
                    <p class="post__body">{post().body}</p>
                  </Show>
                  <Show when={app.unverified().has(post().author)}>
                    <UnverifiedNote name={name(post().author)} />
                  </Show>
                  <Show when={post().whenStart}>
                    {(start) => <p>{t('page.when', { when: formatDate(start()) + (post().whenEnd ? ` → ${formatDate(post().whenEnd!)}` : '') })}</p>}
                  </Show>
                  <Show when={post().themes.length}>
                    <p>
                      <span class="sr-only">{t('page.themes')} : </span>
                      <For each={post().themes}>{(theme) => <span class="tag">#{theme}</span>}</For>
                    </p>
                  </Show>
                  <p class="post__footer">
                    <span>{t('board.by', { name: name(post().author) })}</span>
                    <time datetime={new Date(post().createdAt).toISOString()}>{formatDate(post().createdAt)}</time>
                    <Show when={post().pending}>
                      <span class="pending">{t('board.pending')}</span>
                    </Show>
                  </p>
                </article>
                <Show when={!mine()}>
                  <HelpBox post={post()} answers={d().answers} status={status()} />
                  <p>
                    <A class="button button--secondary" href={`/messages/${post().author}`}>
                      {t('messages.contact', { name: name(post().author) })}
                    </A>
                  </p>
                </Show>
                <Answers post={post()} answers={d().answers} status={status()} mine={mine()} name={name} />
                <Show when={mine()}>
                  <AuthorActions post={post()} status={status()} />
                </Show>
                <Outcomes post={post()} outcomes={d().outcomes} status={status()} mine={mine()} name={name} />
                <Comments postRef={ref()} comments={d().comments} name={name} />
                <Show when={mine()}>
                  <ManagePost post={post()} />
                </Show>
              </>
            )
          }}
        </Show>
      </Show>
    </section>
  )
}
