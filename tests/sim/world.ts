/**
 * The convergence simulation: one seeded run of a neighbourhood's devices and relays.
 *
 * Eight peers (the app's own device repo, client/sync/repo.ts `createDeviceRepo`, on in-memory
 * storage: each reconnection to its relay sends the heads digest and holds back what the relay's answer
 * says it has at the same heads, client/sync/heads-digest.ts; in some seeds one or two of them are a
 * second device of another peer's member, writing the same feed) and a relay (with the relay's own
 * sharing rules and workarounds, sync-server/peering.ts, persisted-heads reports and heads-digest
 * answers, sync-server/heads-digest.ts, over the join/peer opening of tests/sim/link.ts). Every third seed chains two relays instead: a hall's relay
 * peering upstream with a regional one through the relay's peering code, five peers on the first,
 * three on the second. Some seeds add device-to-device links. The peers run random commands — join,
 * post, edit, answer, withdraw, comment, accept, close, renew, thank, delete, post and delete at
 * once — written as client/stores/commands.ts writes them, while links are cut and restored, messages
 * are dropped, duplicated and reordered, and nodes stop (cleanly, or by crashing and losing what was
 * not yet saved) and start again from their storage.
 *
 * Then the world heals: every node up, every link up with no more faults, and every link that lost,
 * duplicated or reordered a message re-established (which restarts sync). It must then converge:
 * every node holds every document of the registry with the same heads, and every node projects the
 * same board (shared/projector.ts). A document nobody holds any more is accepted only if no storage
 * has it either (its only copy was lost in a crash before its first save).
 *
 * Time is the caller's: `clock.advance(ms)` moves it (clock.ts), so a run costs only CPU. Every
 * choice comes from the seed; Automerge's actor and document IDs are still random, so a replayed seed
 * makes the same choices but not byte-identical documents.
 */
import { next as A } from '@automerge/automerge'
import { Repo, type AutomergeUrl, type DocHandle, type DocumentId, type PeerId } from '@automerge/automerge-repo'
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo/slim'
import { CATEGORIES, DEFAULT_EXPIRY_MS, WRITABLE_KINDS } from '../../shared/domain.ts'
import type { AnswerId, CommentId, DocUrl, MemberId, PostId } from '../../shared/ids.ts'
import { canAccept, canAnswer, canClose, canRecordOutcome, canRenew, type PostState } from '../../shared/lifecycle.ts'
import { projectFeed, projectNeighbourhood, type AnswerRow, type PostRow } from '../../shared/projector.ts'
import { newFeed, newPost, type FeedDoc, type Outcome } from '../../shared/schema/feed.ts'
import { newNeighbourhood, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { immutable, sameRef, storedAnswer, storedComment, storedPost } from '../../shared/schema/stored.ts'
import { SYNC_DEBOUNCE_MS } from '../../shared/protocol.ts'
import { createDeviceRepo } from '../../client/sync/repo.ts'
import { createLogger } from '../../sync-server/log.ts'
import { DigestResponder } from '../../sync-server/heads-digest.ts'
import { reportPersistedHeads } from '../../sync-server/persisted-heads.ts'
import { isUpstreamPeer, RelaySharing, UpstreamHosting } from '../../sync-server/peering.ts'
import { receiveSyncFromSyncingPeersDirectly } from '../../sync-server/receive-fast-path.ts'
import { cacheSyncStates } from '../../sync-server/storage/sync-state-cache.ts'
import { MemoryStorage } from '../../sync-server/storage/memory-storage.ts'
import { listFirstPartsByRange } from '../../sync-server/storage/stored-documents.ts'
import { NO_FAULTS, NO_STATS, SimLink, SimRelaySockets, type EndRole, type LinkStats, type SimEnd } from './link.ts'
import { Rng } from './prng.ts'

export interface Clock {
  /** Lets `ms` of (fake) time pass, running every timer and promise due meanwhile. */
  advance(ms: number): Promise<void>
}

export type Topology = 'star' | 'chain'

export interface SeedReport {
  seed: number
  topology: Topology
  commands: number
  steps: number
  stops: number
  crashes: number
  cuts: number
  messages: LinkStats
  /** Documents listed in the registry that no node holds (their only copy was lost in a crash). */
  lost: number
  documents: number
  /** Simulated time the healing took, in ms. */
  healMs: number
  /** Messages delivered while healing. */
  healMessages: number
}

export class SimFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
    readonly trace: readonly string[],
  ) {
    super(`seed ${seed}: ${message}`)
    this.name = 'SimFailure'
  }
}

const PEERS = 8
/** Simulated ms between two healing rounds, and the most rounds before giving up. */
const HEAL_ROUND_MS = 25
const HEAL_MAX_ROUNDS = 2_000
/** Converged this many checks in a row, with nothing in flight, counts as converged. */
const STABLE_CHECKS = 4
const WORDS = ['tondeuse', 'perceuse', 'soupe', 'marché', 'pharmacie', 'chien', 'jardin', 'échelle', 'covoiturage', 'devoirs', 'pain', 'vélo', 'fête', 'voisins', 'merci', 'demain', 'samedi', 'école']

const silent = createLogger({ level: 'silent' })
/** SIM_DEBUG=1: on a failure to converge, print the messages of the stuck document. */
const DEBUG = Boolean(process.env.SIM_DEBUG)
const idOf = (url: DocUrl) => url.slice('automerge:'.length) as DocumentId

/** A storage view that a crash severs: a dead incarnation's late writes never land. */
class StorageView implements StorageAdapterInterface {
  #severed = false
  constructor(readonly inner: MemoryStorage) {}
  sever(): void {
    this.#severed = true
  }
  load(key: StorageKey): Promise<Uint8Array | undefined> {
    return this.inner.load(key)
  }
  loadRange(prefix: StorageKey): Promise<Chunk[]> {
    return this.inner.loadRange(prefix)
  }
  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    if (!this.#severed) await this.inner.save(key, data)
  }
  async remove(key: StorageKey): Promise<void> {
    if (!this.#severed) await this.inner.remove(key)
  }
  async removeRange(prefix: StorageKey): Promise<void> {
    if (!this.#severed) await this.inner.removeRange(prefix)
  }
}

interface Running {
  repo: Repo
  view: StorageView
  ends: SimEnd[]
  hosting?: UpstreamHosting
  /** What a relay's close() stops. */
  stops: Array<() => void>
  /** Documents this incarnation asked for (the app's projector watches the registry the same way). */
  followed: Set<string>
}

interface LocalView {
  repo: Repo
  n: DocHandle<NeighbourhoodDoc>
  own: DocHandle<FeedDoc> | undefined
  posts: PostRow[]
  answers: AnswerRow[]
}

interface SimNode {
  name: string
  kind: 'peer' | 'relay'
  /** Survives restarts. */
  storage: MemoryStorage
  links: Array<{ link: SimLink; side: 0 | 1 }>
  incarnation: number
  running?: Running
  // A peer's device-local state (the app keeps it in Dexie): who it is, once it has joined.
  member?: MemberId
  feed?: DocUrl
  referent?: boolean
  /** A second device of that peer's member (linked by QR code, DESIGN.md §4): it writes the same feed. */
  deviceOf?: SimNode
}

/** Runs one seed; resolves with what happened, or rejects with a {@link SimFailure}. */
export async function runSeed(seed: number, clock: Clock, options: { trace?: (line: string) => void } = {}): Promise<SeedReport> {
  const world = new World(seed, clock, options.trace)
  try {
    return await world.run()
  } finally {
    await world.dispose()
  }
}

class World {
  readonly seed: number
  readonly clock: Clock
  readonly topology: Topology
  readonly plan: Rng
  readonly cmd: Rng
  readonly net: Rng
  readonly chaos: Rng
  readonly nodes: SimNode[] = []
  readonly links: SimLink[] = []
  readonly trace: string[] = []
  readonly violations: string[] = []
  /** SIM_DEBUG: every message of the healing, by document. */
  readonly healTrace = new Map<string, string[]>()
  readonly #echo?: (line: string) => void
  step = 0
  healClock = 0
  commands = 0
  stops = 0
  crashes = 0
  cuts = 0
  nUrl!: DocUrl

  constructor(seed: number, clock: Clock, echo?: (line: string) => void) {
    this.seed = seed
    this.clock = clock
    this.#echo = echo
    const root = new Rng(seed)
    this.plan = root.fork('plan')
    this.cmd = root.fork('commands')
    this.net = root.fork('network')
    this.chaos = root.fork('chaos')
    this.topology = seed % 3 === 2 ? 'chain' : 'star'
  }

  /** Simulated wall-clock for what the app stamps with Date.now(): a minute per step. */
  get now(): number {
    return 1_750_000_000_000 + this.step * 60_000
  }

  log(line: string): void {
    const entry = `[${this.step}] ${line}`
    this.trace.push(entry)
    if (this.trace.length > 400) this.trace.splice(0, 100)
    this.#echo?.(entry)
  }

  fail(message: string): never {
    throw new SimFailure(this.seed, `${this.topology}: ${message}`, this.trace)
  }

  get peers(): SimNode[] {
    return this.nodes.filter((n) => n.kind === 'peer')
  }

  // ---- building the world ----

  #node(name: string, kind: SimNode['kind']): SimNode {
    const node: SimNode = { name, kind, storage: new MemoryStorage(), links: [], incarnation: 0 }
    this.nodes.push(node)
    return node
  }

  #connect(a: SimNode, b: SimNode, roles: readonly [EndRole, EndRole]): void {
    const link = new SimLink(`${a.name}~${b.name}`, roles, (detail) => this.violations.push(detail))
    // Most links misbehave, some are reliable (and must then need no help to converge).
    link.faults = this.plan.chance(0.7)
      ? { drop: this.plan.float(0, 0.25), duplicate: this.plan.float(0, 0.1), reorder: this.plan.float(0, 0.4) }
      : NO_FAULTS
    a.links.push({ link, side: 0 })
    b.links.push({ link, side: 1 })
    this.links.push(link)
  }

  #build(): void {
    const peers = Array.from({ length: PEERS }, (_, i) => this.#node(`p${i}`, 'peer'))
    const client: EndRole = {}
    const server: EndRole = { relayServer: true }
    if (this.topology === 'star') {
      const relay = this.#node('relay', 'relay')
      for (const p of peers) this.#connect(p, relay, [client, server])
    } else {
      const hall = this.#node('hall', 'relay')
      const region = this.#node('region', 'relay')
      peers.forEach((p, i) => this.#connect(p, i < 5 ? hall : region, [client, server]))
      this.#connect(hall, region, [{ upstreamIndex: 0 }, server])
    }
    // The last two peers may be second devices of members rather than members of their own.
    for (const p of peers.slice(-2)) if (this.plan.chance(0.5)) p.deviceOf = peers[this.plan.int(0, PEERS - 3)]
    // A few device-to-device links (WebRTC, tabs): both ends share everything.
    const direct = this.plan.int(0, 2)
    for (let i = 0; i < direct; i++) {
      const a = this.plan.int(0, PEERS - 1)
      let b = this.plan.int(0, PEERS - 2)
      if (b >= a) b++
      this.#connect(peers[Math.min(a, b)] as SimNode, peers[Math.max(a, b)] as SimNode, [client, client])
    }
  }

  // ---- nodes ----

  start(node: SimNode): void {
    if (node.running) return
    node.incarnation++
    const view = new StorageView(node.storage)
    const ends = node.links.map(({ link, side }) => link.attach(side))
    const peerId = `${node.name}.${node.incarnation}` as PeerId
    const sharing = new RelaySharing()
    const repo =
      node.kind === 'relay'
        ? // As createRelay does: sync states kept in memory and written later (here: lost at every stop).
          new Repo({ peerId, storage: cacheSyncStates(view, { flushMs: 60 * 60_000 }), network: ends, shareConfig: sharing.shareConfig, syncDebounceRate: SYNC_DEBOUNCE_MS })
        : // The app's own device repo (client/sync/repo.ts), heads digest included, over its links.
          createDeviceRepo({ peerId, storage: view, relay: this.#relayEnd(node, ends), network: ends }).repo
    let hosting: UpstreamHosting | undefined
    const stops: Array<() => void> = []
    if (node.kind === 'relay') {
      // As createRelay does: sharing, the receive fast path, persisted heads, the heads digest.
      stops.push(sharing.attach(repo), receiveSyncFromSyncingPeersDirectly(repo, { announcesTo: isUpstreamPeer }))
      const devices = ends.filter((end) => end.link.roles[end.side].relayServer)
      const persisted = reportPersistedHeads(repo, new SimRelaySockets(devices), silent)
      const digests = new DigestResponder({ repo, persisted, log: silent })
      for (const end of devices) end.answerDigestsWith((peer, requests, peerMetadata) => digests.answer(peer, requests, peerMetadata))
      stops.push(() => persisted.stop(), () => digests.stop())
    }
    if (node.kind === 'relay' && node.links.some(({ link, side }) => link.roles[side].upstreamIndex !== undefined)) {
      hosting = new UpstreamHosting({ repo, listStoredDocuments: () => listFirstPartsByRange(view), log: silent })
      hosting.start()
    }
    node.running = { repo, view, ends, hosting, stops, followed: new Set() }
    this.log(`start ${node.name} as ${peerId}`)
  }

  async stop(node: SimNode, crash: boolean): Promise<void> {
    const running = node.running
    if (!running) return
    node.running = undefined
    this.stops++
    if (crash) this.crashes++
    this.log(`${crash ? 'crash' : 'stop'} ${node.name}`)
    running.hosting?.stop()
    for (const stop of running.stops) stop()
    if (!crash) {
      // A clean stop saves what is loaded, as the relay's close() and the client's close() do.
      const ready = Object.values(running.repo.handles)
        .filter((h) => h.isReady())
        .map((h) => h.documentId)
      await running.repo.flush(ready).catch(() => undefined)
    }
    running.view.sever()
    for (const end of running.ends) end.disconnect()
  }

  /** A device's end of its link to its relay (every device has one). */
  #relayEnd(node: SimNode, ends: SimEnd[]): SimEnd {
    const end = ends.find((e) => e.link.roles[e.side === 0 ? 1 : 0].relayServer)
    if (!end) throw new Error(`${node.name} has no relay`)
    return end
  }

  /** What the app's projector does: watch the neighbourhood and every feed its registry lists. */
  follow(node: SimNode): void {
    const running = node.running
    if (!running || node.kind !== 'peer') return
    const want = (url: DocUrl) => {
      if (running.followed.has(url)) return
      running.followed.add(url)
      running.repo.find(url as AutomergeUrl, { allowableStates: ['ready', 'unavailable'] }).catch(() => undefined)
    }
    want(this.nUrl)
    if (node.feed) want(node.feed)
    const n = running.repo.handles[idOf(this.nUrl)]
    if (!n?.isReady()) return
    for (const m of Object.values((n.doc() as NeighbourhoodDoc).members ?? {})) want(m.feed)
  }

  // ---- the run ----

  async run(): Promise<SeedReport> {
    this.#build()
    for (const node of this.nodes) this.start(node)
    this.#found()

    const target = this.plan.int(10, 15)
    const maxSteps = target * 8
    while (this.commands < target && this.step < maxSteps) {
      this.step++
      await this.#chaosStep()
      for (const node of this.nodes) this.follow(node)
      await this.clock.advance(this.chaos.int(0, 5))
    }
    if (this.violations.length) this.fail(`frame checks refused real traffic:\n${this.violations.slice(0, 5).join('\n')}`)
    const beforeHeal = this.links.reduce((n, l) => n + l.stats.delivered, 0)
    const healMs = await this.#heal()
    const healMessages = this.links.reduce((n, l) => n + l.stats.delivered, 0) - beforeHeal
    if (this.violations.length) this.fail(`frame checks refused real traffic:\n${this.violations.slice(0, 5).join('\n')}`)
    const { lost, documents } = await this.#check()
    const messages = { ...NO_STATS }
    for (const link of this.links) for (const key of Object.keys(messages) as (keyof LinkStats)[]) messages[key] += link.stats[key]
    return { seed: this.seed, topology: this.topology, commands: this.commands, steps: this.step, stops: this.stops, crashes: this.crashes, cuts: this.cuts, messages, lost, documents, healMs, healMessages }
  }

  async dispose(): Promise<void> {
    for (const node of this.nodes) {
      const running = node.running
      if (!running) continue
      node.running = undefined
      running.hosting?.stop()
      for (const stop of running.stops) stop()
      running.view.sever()
      for (const end of running.ends) end.disconnect()
    }
  }

  /** p0 founds the neighbourhood as the app does: an empty document, its own feed, then the content. */
  #found(): void {
    const p0 = this.nodes[0] as SimNode
    const repo = (p0.running as Running).repo
    const n = repo.create<NeighbourhoodDoc>()
    this.nUrl = n.url as DocUrl
    const me = this.cmd.id('m') as MemberId
    const feed = repo.create<FeedDoc>(newFeed(this.nUrl, me))
    n.change((d) =>
      Object.assign(
        d,
        newNeighbourhood({
          name: 'Quartier du lavoir',
          commune: { insee: '01001', name: "L'Abergement-Clémenciat", postcode: '01400' },
          creator: me,
          creatorName: 'p0',
          creatorFeed: feed.url as DocUrl,
          now: this.now,
        }),
      ),
    )
    Object.assign(p0, { member: me, feed: feed.url as DocUrl, referent: true })
    this.log(`p0 founds ${this.nUrl}`)
  }

  async #chaosStep(): Promise<void> {
    const down = this.nodes.filter((n) => !n.running)
    const cut = this.links.filter((l) => !l.up)
    const action = this.chaos.weighted({
      command: 5,
      deliver: 6,
      wait: 2,
      cut: 0.5,
      restore: cut.length ? 1 : 0,
      stop: 0.35,
      start: down.length ? 0.8 : 0,
    })
    switch (action) {
      case 'command':
        this.#command()
        break
      case 'deliver': {
        const busy = this.links.filter((l) => l.pending > 0)
        const n = this.chaos.int(1, 12)
        for (let i = 0; i < n && busy.length; i++) {
          const link = this.chaos.pick(busy)
          link.deliverOne(this.net)
          await this.clock.advance(0)
        }
        break
      }
      case 'wait':
        await this.clock.advance(this.chaos.int(1, 150))
        break
      case 'cut': {
        const link = this.chaos.pick(this.links)
        if (link.up) {
          this.cuts++
          this.log(`cut ${link.name}`)
          link.cut()
        }
        break
      }
      case 'restore': {
        const link = this.chaos.pick(cut)
        this.log(`restore ${link.name}`)
        link.restore()
        break
      }
      case 'stop': {
        // Relays stop less often than phones.
        const node = this.chaos.chance(0.2) ? this.chaos.pick(this.nodes.filter((n) => n.kind === 'relay')) : this.chaos.pick(this.peers)
        await this.stop(node, this.chaos.chance(0.5))
        if (this.chaos.chance(0.5)) this.start(node)
        break
      }
      case 'start':
        this.start(this.chaos.pick(down))
        break
    }
  }

  // ---- commands, as client/stores/commands.ts writes them ----

  #command(): void {
    const running = this.peers.filter((p) => p.running)
    if (!running.length) return
    const peer = this.cmd.pick(running)
    const view = this.#localView(peer)
    if (!view) return
    const tried = new Set<string>()
    for (let attempt = 0; attempt < 6; attempt++) {
      const name = this.cmd.weighted({
        join: peer.member || peer.deviceOf ? 0 : 10,
        link: !peer.member && peer.deviceOf?.member ? 10 : 0,
        post: 4,
        editPost: 1,
        deletePost: 0.7,
        retract: 0.7,
        answer: 3,
        withdraw: 0.7,
        comment: 3,
        editComment: 0.7,
        deleteComment: 0.5,
        accept: 2,
        close: 1,
        renew: 0.5,
        outcome: 1,
        rename: 0.3,
      })
      if (tried.has(name)) continue
      tried.add(name)
      const done = this.#try(peer, view, name)
      if (done) {
        this.commands++
        this.log(`${peer.name} ${done}`)
        return
      }
    }
  }

  /** What a peer sees now: its neighbourhood handle, its own feed handle, the rows of every feed it holds. */
  #localView(peer: SimNode): LocalView | undefined {
    const repo = (peer.running as Running).repo
    const n = repo.handles[idOf(this.nUrl)] as DocHandle<NeighbourhoodDoc> | undefined
    if (!n?.isReady()) return undefined
    const own = peer.feed ? (repo.handles[idOf(peer.feed)] as DocHandle<FeedDoc> | undefined) : undefined
    const posts: PostRow[] = []
    const answers: AnswerRow[] = []
    for (const m of Object.values(n.doc().members ?? {})) {
      const h = repo.handles[idOf(m.feed)]
      if (!h?.isReady()) continue
      const p = projectFeed(h.doc(), m.feed)
      posts.push(...p.rows)
      answers.push(...p.answers)
    }
    return { repo, n, own: own?.isReady() ? own : undefined, posts, answers }
  }

  /** Tries one command; returns what it did, or undefined if it does not apply now. */
  #try(peer: SimNode, view: LocalView, name: string): string | undefined {
    const { repo, n, own, posts, answers } = view
    const me = peer.member
    const now = this.now
    const rng = this.cmd
    const text = () => Array.from({ length: rng.int(1, 4) }, () => rng.pick(WORDS)).join(' ')
    const state = (row: PostRow): PostState => ({
      author: row.author,
      kind: row.kind,
      status: row.status,
      expiresAt: row.expiresAt,
      closedAt: row.closedAt,
      accepted: row.acceptedAt,
      outcomes: row.outcomes,
      helpers: answers.filter((a) => a.postFeed === row.feed && a.post === row.id && !a.withdrawn).map((a) => a.author),
    })
    const mine = posts.filter((p) => p.author === me && p.feed === peer.feed)
    const theirs = posts.filter((p) => p.author !== me)
    const changeOwn = (fn: (d: FeedDoc) => void) =>
      (own as DocHandle<FeedDoc>).change((d) => {
        d.answers ??= {} as FeedDoc['answers']
        d.comments ??= {} as FeedDoc['comments']
        fn(d)
      })

    if (name === 'link') {
      const of = peer.deviceOf
      if (peer.member || !of?.member || !of.feed) return undefined
      Object.assign(peer, { member: of.member, feed: of.feed, referent: of.referent })
      return `links to ${of.name}'s member, writing ${of.feed}`
    }
    if (name === 'join') {
      if (me) return undefined
      const member = rng.id('m') as MemberId
      const feed = repo.create<FeedDoc>(newFeed(this.nUrl, member))
      n.change((d) => {
        d.members[member] = { displayName: peer.name, joinedAt: now, feed: feed.url as DocUrl }
      })
      Object.assign(peer, { member, feed: feed.url as DocUrl, referent: false })
      ;(peer.running as Running).followed.add(feed.url)
      return `joins with feed ${feed.url}`
    }
    if (!me || !own) return undefined
    switch (name) {
      case 'post': {
        const kinds = peer.referent ? WRITABLE_KINDS : WRITABLE_KINDS.filter((k) => k !== 'info')
        const id = rng.id('p') as PostId
        const post = newPost({ kind: rng.pick(kinds), category: rng.pick(CATEGORIES), title: text(), body: text() }, id, now)
        changeOwn((d) => {
          d.posts[id] = storedPost(post)
        })
        return `posts ${id} (${post.kind})`
      }
      case 'editPost': {
        if (!mine.length) return undefined
        const row = rng.pick(mine)
        changeOwn((d) => {
          const p = d.posts[row.id]
          if (!p) return
          p.title = immutable(text())
          p.body = immutable(text())
          p.updatedAt = now
        })
        return `edits ${row.id}`
      }
      case 'retract': {
        // Posted by mistake and deleted at once: two changes that cancel out.
        const id = rng.id('p') as PostId
        const post = newPost({ kind: 'request', category: rng.pick(CATEGORIES), title: text(), body: text() }, id, now)
        changeOwn((d) => {
          d.posts[id] = storedPost(post)
        })
        changeOwn((d) => {
          delete d.posts[id]
        })
        return `posts ${id} and deletes it at once`
      }
      case 'deletePost': {
        if (!mine.length) return undefined
        const row = rng.pick(mine)
        changeOwn((d) => {
          delete d.posts[row.id]
        })
        return `deletes ${row.id}`
      }
      case 'answer': {
        const open = theirs.filter((p) => canAnswer(state(p), me, now).ok)
        if (!open.length) return undefined
        const row = rng.pick(open)
        const message = text()
        changeOwn((d) => {
          const existing = Object.values(d.answers ?? {}).find((a) => sameRef(a.post, row))
          if (existing) {
            existing.message = immutable(message)
            delete existing.withdrawnAt
            return
          }
          const id = rng.id('a') as AnswerId
          ;(d.answers as NonNullable<FeedDoc['answers']>)[id] = storedAnswer({ id, post: { feed: row.feed, id: row.id }, message, createdAt: now })
        })
        return `answers ${row.id}`
      }
      case 'withdraw': {
        const live = answers.filter((a) => a.feed === peer.feed && !a.withdrawn)
        if (!live.length) return undefined
        const a = rng.pick(live)
        changeOwn((d) => {
          const entry = d.answers?.[a.id]
          if (entry) entry.withdrawnAt = now
        })
        return `withdraws ${a.id}`
      }
      case 'comment': {
        if (!posts.length) return undefined
        const row = rng.pick(posts)
        const id = rng.id('c') as CommentId
        changeOwn((d) => {
          ;(d.comments as NonNullable<FeedDoc['comments']>)[id] = storedComment({ id, post: { feed: row.feed, id: row.id }, body: text(), createdAt: now })
        })
        return `comments ${id} on ${row.id}`
      }
      case 'editComment':
      case 'deleteComment': {
        const ids = Object.keys(own.doc().comments ?? {}) as CommentId[]
        if (!ids.length) return undefined
        const id = rng.pick(ids)
        changeOwn((d) => {
          const comments = d.comments as NonNullable<FeedDoc['comments']>
          const c = comments[id]
          if (!c) return
          if (name === 'deleteComment') delete comments[id]
          else {
            c.body = immutable(text())
            c.updatedAt = now
          }
        })
        return `${name === 'deleteComment' ? 'deletes' : 'edits'} comment ${id}`
      }
      case 'accept': {
        const choices = mine.flatMap((p) => state(p).helpers.filter((h) => canAccept(state(p), me, h, now).ok).map((h) => ({ p, h })))
        if (!choices.length) return undefined
        const { p, h } = rng.pick(choices)
        changeOwn((d) => {
          const post = d.posts[p.id]
          if (!post) return
          post.accepted ??= {} as Record<MemberId, number>
          post.accepted[h] = now
        })
        return `accepts ${h} on ${p.id}`
      }
      case 'close': {
        const open = mine.filter((p) => canClose(state(p), me, now).ok)
        if (!open.length) return undefined
        const p = rng.pick(open)
        const status = rng.chance(0.7) ? 'done' : 'cancelled'
        changeOwn((d) => {
          const post = d.posts[p.id]
          if (!post) return
          post.status = immutable(status)
          post.closedAt = now
        })
        return `closes ${p.id} as ${status}`
      }
      case 'renew': {
        const open = mine.filter((p) => canRenew(state(p), me, now).ok)
        if (!open.length) return undefined
        const p = rng.pick(open)
        changeOwn((d) => {
          const post = d.posts[p.id]
          if (post) post.expiresAt = now + DEFAULT_EXPIRY_MS
        })
        return `renews ${p.id}`
      }
      case 'outcome': {
        const choices = mine.flatMap((p) => Object.keys(p.acceptedAt).filter((h) => canRecordOutcome(state(p), me, h as MemberId, now).ok).map((h) => ({ p, h: h as MemberId })))
        if (!choices.length) return undefined
        const { p, h } = rng.pick(choices)
        const outcome: Outcome = rng.chance(0.8) ? { kind: immutable('thanks'), note: immutable(text()), at: now } : { kind: immutable('no-show'), at: now }
        changeOwn((d) => {
          const post = d.posts[p.id]
          if (!post) return
          post.outcomes ??= {} as Record<MemberId, Outcome>
          post.outcomes[h] = outcome
        })
        return `records ${outcome.kind} for ${h} on ${p.id}`
      }
      case 'rename': {
        if (!peer.referent) return undefined
        const name = `Quartier ${text()}`.slice(0, 80)
        n.change((d) => {
          d.name = name
        })
        return `renames the neighbourhood`
      }
    }
    return undefined
  }

  // ---- healing and the verdict ----

  /**
   * Every node up, every link up with no more faults, and every link that lost, duplicated or
   * reordered a message re-established (sync restarts on reconnection: automerge's sync protocol
   * expects reliable, ordered delivery within a connection); then deliver until everyone agrees.
   */
  async #heal(): Promise<number> {
    this.log('heal')
    for (const node of this.nodes) this.start(node)
    for (const link of this.links) {
      if (DEBUG)
        link.traceDoc = { log: (line, doc) => this.healTrace.set(doc, [...(this.healTrace.get(doc) ?? []), `[t+${this.healClock}] ${line}`]) }
      link.faults = NO_FAULTS
      if (link.disturbed) link.cut()
      link.restore()
    }
    let stable = 0
    for (let round = 1; round <= HEAL_MAX_ROUNDS; round++) {
      for (const node of this.nodes) this.follow(node)
      let moved = 0
      for (const link of this.links) moved += link.drain()
      await this.clock.advance(HEAL_ROUND_MS)
      this.healClock += HEAL_ROUND_MS
      if (moved > 0 || this.links.some((l) => l.pending > 0)) {
        stable = 0
        continue
      }
      stable = this.#disagreement() === undefined ? stable + 1 : 0
      if (stable >= STABLE_CHECKS) return round * HEAL_ROUND_MS
    }
    if (DEBUG) await this.#debugStuck()
    this.fail(`no convergence after ${(HEAL_MAX_ROUNDS * HEAL_ROUND_MS) / 1000} s of healing:\n  ${this.#disagreement()}`)
  }

  /**
   * SIM_DEBUG: prints every message the healing carried for the first document still in dispute,
   * then re-establishes every link and prints what they say about it.
   */
  async #debugStuck(): Promise<void> {
    const url = this.#documents().find((u) => new Set(this.nodes.map((n) => this.#headsAt(n, u))).size > 1)
    if (!url) return
    console.log(`--- the healing, for ${url}\n${(this.healTrace.get(idOf(url)) ?? []).join('\n')}\n--- every link re-established`)
    for (const link of this.links) {
      link.traceDoc = { documentId: idOf(url), log: (line) => console.log(line) }
      link.cut()
      link.restore()
    }
    for (let round = 0; round < 20; round++) {
      for (const link of this.links) link.drain()
      await this.clock.advance(HEAL_ROUND_MS)
    }
    for (const link of this.links) link.traceDoc = undefined
  }

  /** The registry's documents: the neighbourhood and every member feed any node's copy lists. */
  #documents(): DocUrl[] {
    const urls = new Set<DocUrl>()
    for (const node of this.nodes) {
      const n = node.running?.repo.handles[idOf(this.nUrl)]
      if (!n?.isReady()) continue
      for (const m of Object.values((n.doc() as NeighbourhoodDoc).members ?? {})) urls.add(m.feed)
    }
    return [this.nUrl, ...[...urls].sort()]
  }

  /** A node's heads of a document, or why it has none. */
  #headsAt(node: SimNode, url: DocUrl): string {
    const h = node.running?.repo.handles[idOf(url)]
    return h?.isReady() ? headsLabel(A.getHeads(h.doc())) : `absent (${h?.state ?? 'never asked for'})`
  }

  /** Which nodes disagree on which document, one line each; undefined when all agree. */
  #disagreement(): string | undefined {
    const out: string[] = []
    for (const url of this.#documents()) {
      const seen = new Map<string, string[]>()
      for (const node of this.nodes) {
        const heads = this.#headsAt(node, url)
        seen.set(heads, [...(seen.get(heads) ?? []), node.name])
      }
      if (seen.size < 2) continue
      out.push(`${url === this.nUrl ? 'neighbourhood ' : 'feed '}${url}: ${[...seen].map(([heads, names]) => `${names.join('+')} → ${heads}`).join('; ')}`)
      if (DEBUG)
        for (const node of this.nodes) {
          const sync = node.running?.repo.synchronizer.docSynchronizers[idOf(url)]
          out.push(`    ${node.name}: syncing with ${JSON.stringify(sync?.metrics().peers)}, their states ${JSON.stringify(sync?.peerStates)}`)
        }
    }
    return out.length ? out.join('\n  ') : undefined
  }

  async #check(): Promise<{ lost: number; documents: number }> {
    const documents = this.#documents()
    let lost = 0
    for (const url of documents) {
      const held = this.nodes.some((n) => n.running?.repo.handles[idOf(url)]?.isReady())
      if (held) continue
      // Nobody holds it: fine only if nobody ever saved it (a crash lost its only copy).
      const stored: SimNode[] = []
      for (const n of this.nodes) {
        // Sync states are stored under the document's ID too; only its changes count.
        const chunks = await n.storage.loadRange([idOf(url)])
        if (chunks.some((c) => c.key[1] === 'snapshot' || c.key[1] === 'incremental')) stored.push(n)
      }
      if (stored.length) this.fail(`${url} is stored by ${stored.map((n) => n.name).join(', ')} but no node could load it`)
      lost++
    }
    // The board every peer projects from its documents (what the app's index holds).
    const boards = new Map<string, string[]>()
    for (const node of this.nodes) {
      const repo = (node.running as Running).repo
      const part = (url: DocUrl) => repo.handles[idOf(url)]
      const n = part(this.nUrl)
      const board = {
        neighbourhood: n?.isReady() ? projectNeighbourhood(n.doc(), this.nUrl) : undefined,
        feeds: documents
          .filter((u) => u !== this.nUrl && part(u)?.isReady())
          .map((u) => {
            const p = projectFeed(part(u)?.doc(), u)
            const byKey = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
            return {
              url: u,
              rows: byKey(p.rows, (r) => r.id),
              answers: byKey(p.answers, (r) => r.id),
              comments: byKey(p.comments, (r) => r.id),
              outcomes: byKey(p.outcomes, (r) => r.key),
              skipped: p.skipped,
            }
          }),
      }
      const json = JSON.stringify(board)
      boards.set(json, [...(boards.get(json) ?? []), node.name])
      if (node.kind === 'peer' && board.feeds.some((f) => f.skipped > 0)) this.fail(`${node.name} projects a feed with entries that fail validation`)
    }
    if (boards.size > 1) this.fail(`the projected boards differ: ${[...boards.values()].map((names) => names.join('+')).join(' | ')}`)
    return { lost, documents: documents.length }
  }
}

/** Heads as a short label: how many, and the start of each. */
function headsLabel(heads: readonly string[]): string {
  return `${heads.length}:${[...heads].sort().map((h) => h.slice(0, 6)).join(',')}`
}
