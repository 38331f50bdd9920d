/**
 * Projection: with a board of 10,000 posts (and their comments) already in the query index, the time
 * for the app's projector (client/sync/projector.ts, as the app runs it) to bring one incoming change
 * into the index: a new post, a comment, a status change arriving in a member's feed.
 *
 * Runs in Node: the app's Projector on a real automerge-repo Repo and the app's Dexie database on
 * fake-indexeddb (an in-memory IndexedDB in JavaScript), not in Chromium.
 */
import 'fake-indexeddb/auto'
import * as A from '@automerge/automerge'
import { Repo, type DocHandle, type DocumentId } from '@automerge/automerge-repo'
import { openDb } from '../../client/db/db.ts'
import { Projector } from '../../client/sync/projector.ts'
import { RelayAdapter } from '../../client/sync/websocket-adapter.ts'
import type { CommentId, DocUrl, PostId } from '../../shared/ids.ts'
import { projectFeed } from '../../shared/projector.ts'
import { newPost, type PostRecord } from '../../shared/schema/feed.ts'
import { changeSigned } from '../../shared/signed-changes.ts'
import { immutable, storedComment, storedPost } from '../../shared/schema/stored.ts'
import { boardOptions, buildAutomerge, generateBoard, idOf, Rng, type Member } from '../generate.ts'
import { cached } from '../lib/cache.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { quantile } from '../lib/stats.ts'
import { waitUntil } from '../lib/wait.ts'

type ChangeKind = 'post' | 'comment' | 'status'
const KINDS: readonly ChangeKind[] = ['post', 'comment', 'status']

interface Sample {
  kind: ChangeKind
  /** Posts in the feed that changed (before the change). */
  feedPosts: number
  /** The change applied → the projector has written the index, ms. */
  ms: number
  /** Applying the change to the document (Automerge, in \`handle.update\`), ms. */
  applyMs: number
  /** The pure part alone (shared/projector.ts projectFeed on the changed feed), ms. */
  pureMs: number
}

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(ms < 10 ? 2 : 0) : '—')

interface Shape {
  posts?: Record<string, Partial<PostRecord>>
  comments?: Record<string, unknown>
}

export const projection: Scenario = {
  id: 'projection',
  title: 'Projecting one incoming change',
  goal: '≤ 5 ms per change, 10,000 posts indexed',
  async run(ctx: RunContext) {
    const posts = ctx.quick ? 300 : 10_000
    const changes = ctx.quick ? 30 : 200
    const options = boardOptions(`catch-up-${posts}`, posts, ctx.quick ? { members: 20 } : {})
    const board = generateBoard(options)
    ctx.log(`projection: building the ${posts}-post board (cached after the first time)`)
    const docs = cached('catch-up-automerge', options, () => buildAutomerge(board))

    const repo = new Repo({ network: [] })
    const db = openDb(`bench-projection-${Date.now()}`)
    // Never connected: the projector only asks it whether the relay is there.
    const relay = new RelayAdapter({ url: 'ws://127.0.0.1:9/sync' })
    const projector = new Projector(repo, db, relay)
    const samples: Sample[] = []
    let fillSeconds: number | undefined
    try {
      const handles = new Map<string, DocHandle<unknown>>()
      for (const [id, bin] of docs.full) handles.set(id, repo.import<unknown>(bin, { docId: id as DocumentId }))
      const fillStart = performance.now()
      await projector.watchNeighbourhood(board.neighbourhoodUrl)
      await waitUntil(async () => (await db.posts.count()) >= posts, `the index to hold ${posts} posts`, 1_200_000, 200)
      await projector.settled()
      fillSeconds = (performance.now() - fillStart) / 1000
      ctx.log(`projection: ${await db.posts.count()} posts, ${await db.comments.count()} comments indexed in ${fillSeconds.toFixed(0)} s`)

      // Incoming changes come from each member's own device: a copy of their feed with their actor.
      const remote = new Map<string, A.Doc<Shape>>()
      const remoteOf = (m: Member) => {
        const id = idOf(m.feedUrl)
        let doc = remote.get(id)
        if (!doc) remote.set(id, (doc = A.load<Shape>(docs.full.get(id) as Uint8Array, { actor: m.actor })))
        return doc
      }
      // Authors weighted by how much they write, as on the board; targets among recent posts.
      const rng = new Rng(`projection-${posts}`)
      const authorOps = board.base.concat(board.delta).filter((op) => op.type === 'post')
      const recent = authorOps.slice(-500)
      let at = Math.max(...board.delta.map((op) => op.at)) + 60_000
      for (let i = 0; i < changes; i++) {
        const kind = KINDS[i % KINDS.length] as ChangeKind
        at += 60_000
        let member: Member
        let change: (d: Shape) => void
        let check: () => Promise<boolean>
        if (kind === 'post') {
          member = board.members[rng.pick(authorOps).author] as Member
          const id = rng.id('p') as PostId
          const post = newPost({ kind: 'request', category: 'diy', title: 'Besoin d’une perceuse ce week-end', body: 'Pour fixer des étagères, je la rends dimanche.' }, id, at)
          change = (d) => void ((d.posts ??= {})[id] = storedPost(post))
          check = async () => !!(await db.posts.get([member.feedUrl, id]))
        } else if (kind === 'comment') {
          const target = rng.pick(recent)
          member = board.members[rng.int(board.members.length)] as Member
          const id = rng.id('c') as CommentId
          const postFeed = (board.members[target.author] as Member).feedUrl
          change = (d) => void ((d.comments ??= {})[id] = storedComment({ id, post: { feed: postFeed, id: target.post.id }, body: 'Je peux passer ce soir vers 18 h.', createdAt: at }))
          check = async () => !!(await db.comments.get([member.feedUrl, id]))
        } else {
          // A status change on a post still open in its author's feed.
          let target = rng.pick(recent)
          for (let tries = 0; remoteOf(board.members[target.author] as Member).posts?.[target.post.id]?.status && tries < 50; tries++) target = rng.pick(recent)
          member = board.members[target.author] as Member
          const id = target.post.id
          change = (d) => {
            const p = d.posts?.[id]
            if (p) Object.assign(p, { status: immutable('done'), closedAt: at })
          }
          check = async () => (await db.posts.get([member.feedUrl, id]))?.status === 'done'
        }
        const id = idOf(member.feedUrl)
        // Signed by the member, as their device signs it: the projector checks the signature.
        const before = remoteOf(member)
        const next = changeSigned(before, change, { documentId: id, secretKey: member.keys.secretKey, time: Math.floor(at / 1000) })
        remote.set(id, next)
        const [bytes] = A.getChanges(before, next) as [Uint8Array]
        const handle = handles.get(id) as DocHandle<unknown>
        const feedPosts = Object.keys((handle.doc() as Shape).posts ?? {}).length

        // What the sync does with a change from a peer: apply it to the handle, which emits `change`.
        const t0 = performance.now()
        handle.update((d) => A.applyChanges(d, [bytes])[0])
        // The handle has emitted \`change\` by now; the projector starts on the next microtask.
        const t1 = performance.now()
        await projector.settled()
        const ms = performance.now() - t1
        if (!(await check())) throw new Error(`the ${kind} change was not in the index once the projector settled`)
        const p0 = performance.now()
        projectFeed(handle.doc(), member.feedUrl as DocUrl)
        samples.push({ kind, feedPosts, ms, applyMs: t1 - t0, pureMs: performance.now() - p0 })
      }
    } finally {
      projector.stop()
      await repo.shutdown()
      db.close()
      await db.delete()
    }

    const all = samples.map((s) => s.ms)
    const figures: Figure[] = [
      { measure: `one incoming change → in the index, median over ${samples.length} changes, ${posts.toLocaleString('en')} posts indexed (Node, fake-indexeddb)`, unit: 'ms', values: { placette: all }, goal: { max: 5, text: '≤ 5 ms' } },
      { measure: 'one incoming change → in the index, p95', unit: 'ms', values: { placette: all.length ? [quantile(all, 0.95)] : [] }, goal: { max: 5, text: '≤ 5 ms' } },
      ...KINDS.map((kind) => ({ measure: `a ${kind === 'status' ? 'status change' : `new ${kind}`}, median`, unit: 'ms', values: { placette: samples.filter((s) => s.kind === kind).map((s) => s.ms) } })),
      { measure: 'before it: applying the change to the document (Automerge, handle.update), median', unit: 'ms', values: { placette: samples.map((s) => s.applyMs) } },
      { measure: 'for comparison: projecting the whole changed feed (shared/projector.ts projectFeed), median', unit: 'ms', values: { placette: samples.map((s) => s.pureMs) } },
      { measure: `filling the index (${posts.toLocaleString('en')} posts, from documents in memory)`, unit: 's', values: { placette: fillSeconds === undefined ? [] : [fillSeconds] }, digits: 0 },
    ]
    const buckets = [
      { label: 'under 50 posts', keep: (n: number) => n < 50 },
      { label: '50 to 299 posts', keep: (n: number) => n >= 50 && n < 300 },
      { label: '300 posts or more', keep: (n: number) => n >= 300 },
    ]
    const rows = buckets.map(({ label, keep }) => {
      const ss = samples.filter((s) => keep(s.feedPosts))
      const ms = ss.map((s) => s.ms)
      return `| ${label} | ${ss.length} | ${fmt(quantile(ms, 0.5))} | ${fmt(quantile(ms, 0.95))} | ${fmt(ms.length ? Math.max(...ms) : NaN)} | ${fmt(quantile(ss.map((s) => s.pureMs), 0.5))} |`
    })
    return {
      method:
        `In Node, not Chromium: the app's \`Projector\` (client/sync/projector.ts) on an automerge-repo Repo holding a generated board ` +
        `(${posts.toLocaleString('en')} posts from ${board.members.length} members, with comments and status changes), writing the app's Dexie ` +
        `database on fake-indexeddb (IndexedDB in JavaScript, in memory). Once every feed is projected, ${samples.length} changes arrive one at a ` +
        `time, in turn a new post, a comment on a recent post and a status change (done) on an open recent post, each written on a copy of the ` +
        `member's feed with that member's actor and applied to the device's handle as the sync applies a peer's changes (\`handle.update\` with ` +
        `\`applyChanges\`), so the projector sees the same \`change\` event. Timed: from \`handle.update\` returning (the \`change\` event is ` +
        `emitted; the projector starts on the next microtask) to the projector having written the index (\`settled()\`); each change is then ` +
        `checked in the index. Applying the change to the document is timed apart. Authors are weighted by how much they post, so the busiest feeds ` +
        `(one member writes about 1,000 of the 10,000 posts) get their share.`,
      figures,
      notes: [
        `Spread: p25 ${fmt(quantile(all, 0.25))} ms, median ${fmt(quantile(all, 0.5))} ms, p75 ${fmt(quantile(all, 0.75))} ms, p95 ${fmt(quantile(all, 0.95))} ms, max ${fmt(Math.max(...all))} ms.`,
        ...tailNote(samples),
      ],
      details: ['| feed that changed | changes | median ms | p95 ms | max ms | whole-feed projectFeed, median ms |', '|---|---|---|---|---|---|', ...rows].join('\n'),
    }
  },
}

/** Whether the slow tail follows the size of the feed (the projector's work) or not (the machine). */
function tailNote(samples: readonly Sample[]): string[] {
  const p95 = (keep: (s: Sample) => boolean) => quantile(samples.filter(keep).map((s) => s.ms), 0.95)
  const small = p95((s) => s.feedPosts < 50)
  const large = p95((s) => s.feedPosts >= 300)
  const apply = quantile(samples.map((s) => s.applyMs), 0.95)
  if (!Number.isFinite(small) || !Number.isFinite(large) || small < large / 2) return []
  return [
    `The slow tail does not follow the size of the feed (p95 ${fmt(small)} ms for feeds of under 50 posts, ${fmt(large)} ms for 300 or more), ` +
      `and applying the change to the document, which the projector has no part in, has one too (p95 ${fmt(apply)} ms): it comes from the machine ` +
      '(other processes on its two cores, garbage collection), not from the work per change.',
  ]
}
