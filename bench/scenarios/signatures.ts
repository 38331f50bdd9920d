/**
 * Signatures: what per-change signatures (shared/signed-changes.ts) cost. Writing one change through
 * the app's signing path on a feed of a few hundred changes, against a plain Automerge change; checking
 * a board's worth of signed changes (25,000) on a cold start with nothing verified before, and again
 * with each feed's earlier check kept (as client/sync/feed-checks.ts keeps it in Dexie); and the bytes
 * a signature adds to a stored feed.
 */
import * as A from '@automerge/automerge'
import { generateMemberKeys } from '../../shared/identity.ts'
import { immutable } from '../../shared/schema/stored.ts'
import { changeSigned, checkChangeSignature, checkFeed, type FeedCheck } from '../../shared/signed-changes.ts'
import type { Figure, RunContext, Scenario } from '../lib/scenario.ts'
import { quantile } from '../lib/stats.ts'

type Feed = { posts: Record<string, { title: string; body: string; createdAt: number }> }
const addPost = (i: number) => (d: Feed) => {
  d.posts[`p${i}`] = { title: immutable(`Perceuse à prêter n°${i}`), body: immutable('Je la prête le week-end, passez la chercher au 12 rue des Lilas.'), createdAt: 1_700_000_000_000 + i }
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = fn()
  return { value, ms: performance.now() - start }
}

export const signatures: Scenario = {
  id: 'signatures',
  title: 'Signed feed changes',
  goal: 'a signed write ≤ 10 ms; a cold start verifies nothing it verified before',
  async run(ctx: RunContext) {
    // A busy feed (the town hall's tablet posting for several people) reaches a few thousand changes:
    // the writes are timed all the way, the first and the last `window` of them reported.
    const feedChanges = ctx.quick ? 100 : 2000
    const window = ctx.quick ? 25 : 300
    const feeds = ctx.quick ? 4 : 100
    const perFeed = ctx.quick ? 50 : 250
    const keys = generateMemberKeys()
    const documentId = 'benchFeedDocument'
    const sign = { documentId, secretKey: keys.secretKey }

    ctx.log(`signatures: ${feedChanges} writes, signed and plain`)
    let signed = A.from<Feed>({ posts: {} })
    let unsigned = A.from<Feed>({ posts: {} })
    const signMs: number[] = []
    const plainMs: number[] = []
    for (let i = 0; i < feedChanges; i++) {
      // As client/stores/commands.ts writes: checked since the last check, then signed on the valid heads.
      const step = timed(() => {
        const check = checkFeed(signed, { documentId, publicKey: keys.publicKey, since: { heads: A.getHeads(signed), invalid: [], signed: true, verified: 0 } })
        return changeSigned(signed, addPost(i), { ...sign, base: check.heads })
      })
      signed = step.value
      signMs.push(step.ms)
      const p = timed(() => A.change(unsigned, addPost(i)))
      unsigned = p.value
      plainMs.push(p.ms)
    }
    const signedBytes = A.save(signed).byteLength
    const plainBytes = A.save(unsigned).byteLength

    ctx.log(`signatures: a ${perFeed}-change feed, checked as ${feeds} feeds`)
    let feed = A.from<Feed>({ posts: {} })
    for (let i = 0; i < perFeed; i++) feed = changeSigned(feed, addPost(i), sign)
    const total = feeds * (perFeed + 1)
    const cold: number[] = []
    const warm: number[] = []
    let verified = 0
    let verifiedCold = 0
    let earlier: FeedCheck | undefined
    for (let f = 0; f < feeds; f++) {
      const full = timed(() => checkFeed(feed, { documentId, publicKey: keys.publicKey }))
      if (full.value.invalid.length) throw new Error('the bench feed should be valid')
      cold.push(full.ms)
      verifiedCold += full.value.verified
      earlier = full.value
      const again = timed(() => checkFeed(feed, { documentId, publicKey: keys.publicKey, since: earlier }))
      verified += again.value.verified
      warm.push(again.ms)
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    // For comparison: verifying every change's signature one by one (what the hash chain spares).
    const each = A.getAllChanges(feed).map((c) => timed(() => checkChangeSignature(c, documentId, keys.publicKey)).ms)

    const figures: Figure[] = [
      { measure: `one signed write (check since the last one, change on a fork, sign, apply), feed of up to ${window} changes, median`, unit: 'ms', values: { placette: signMs.slice(0, window) }, goal: { max: 10, text: '≤ 10 ms' } },
      { measure: 'for comparison: the same write as a plain Automerge change, median', unit: 'ms', values: { placette: plainMs.slice(0, window) } },
      { measure: `one signed write on a feed of ${(feedChanges - window).toLocaleString('en')}–${feedChanges.toLocaleString('en')} changes, median`, unit: 'ms', values: { placette: signMs.slice(-window) }, goal: { max: 10, text: '≤ 10 ms' } },
      { measure: 'for comparison: the same write as a plain Automerge change, median', unit: 'ms', values: { placette: plainMs.slice(-window) } },
      { measure: `checking ${total.toLocaleString('en')} signed changes (${feeds} feeds × ${perFeed + 1}), nothing verified before`, unit: 'ms', values: { placette: [sum(cold)] } },
      { measure: 'signatures verified for it (one per head: a valid signature vouches for its history)', unit: 'signatures', values: { placette: [verifiedCold] } },
      { measure: 'for comparison: verifying one change’s signature, median', unit: 'ms', values: { placette: each } },
      { measure: `the same ${total.toLocaleString('en')} changes, each feed's earlier check kept`, unit: 'ms', values: { placette: [sum(warm)] } },
      { measure: 'signatures verified again on that second start', unit: 'signatures', values: { placette: [verified] }, goal: { max: 0, text: 'none' } },
      { measure: `a stored feed of ${feedChanges} posts, signed`, unit: 'KB', values: { placette: [signedBytes / 1024] } },
      { measure: 'the same feed unsigned', unit: 'KB', values: { placette: [plainBytes / 1024] } },
    ]
    return {
      method:
        `In Node, one process. Writes: ${feedChanges} posts written one after the other to one feed through the app's signing path ` +
        `(shared/signed-changes.ts: the feed checked since its last check, the change made on a fork of the document at its valid heads with ` +
        `the document's own actor, signed with Ed25519 by @noble/curves, applied to the document), and the same posts written as plain ` +
        `Automerge changes. Checks: one signed feed of ${perFeed + 1} changes checked ${feeds} times as if it were ${feeds} feeds (the work is the same), ` +
        `first with nothing verified before, then with the earlier check of each feed kept, as the client keeps it ` +
        `in Dexie (client/sync/feed-checks.ts): only changes after its valid heads are looked at. Sizes: \`A.save\` of each feed.`,
      figures,
      notes: [
        `A signature is 64 bytes, carried base64url in the change's message (86 characters): about ${Math.round((signedBytes - plainBytes) / feedChanges)} bytes more per change once stored (signatures do not compress).`,
        `Verifying every change one by one would cost about ${(quantile(each, 0.5) * total / 1000).toFixed(0)} s for this board; walking from the heads, a feed its owner signed throughout costs one verification, and the kept checks spare even that on later starts. A feed holding forged changes costs one verification per change not covered by a valid signature.`,
      ],
    }
  },
}
