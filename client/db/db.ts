import Dexie, { type EntityTable, type Table } from 'dexie'
import type { AnswerRow, CommentRow, MemberRow, NeighbourhoodRow, OutcomeRow, PostRow } from '../../shared/projector.ts'
import type { DocUrl, MemberId } from '../../shared/ids.ts'

/**
 * The device's query index and device-local state.
 * - `posts`, `members`, `neighbourhoods`: derived from the Automerge documents by the projector;
 *   dropping them and projecting again gives the same rows.
 * - `profiles`, `settings`, `syncState`: belong to this device only and are never synced.
 * - `feedChecks`: what this device verified of each feed's signatures (shared/signed-changes.ts), so a
 *   cold start verifies only changes that arrived since; kept when the index is rebuilt.
 * - `projections`: the version of each feed (others' feeds only) that its rows in the index are, so a
 *   cold start does not project again a feed that has not changed; dropped with the index.
 */

/** A row of the board: the projected post plus whether the relay has it yet. */
export interface BoardPost extends PostRow {
  /** True while the post exists only on this device (and maybe its other tabs). */
  pending: boolean
}

export type BoardAnswer = AnswerRow & { pending: boolean }
export type BoardComment = CommentRow & { pending: boolean }

/** Someone who uses this device, as a member of one neighbourhood. */
export interface Profile {
  id: MemberId
  /** Ed25519 keys: the public one is in the neighbourhood's registry, the secret one never leaves the device. */
  keys?: { publicKey: Uint8Array; secretKey: Uint8Array }
  displayName: string
  neighbourhood: DocUrl
  feed: DocUrl
  createdAt: number
  /**
   * The invitation this member joined with: shown to the relay at every sign-in, so that a member
   * who joined offline (from a file) is let in to send their joining.
   */
  invitation?: string
}

/** What the relay is known to hold of one document, remembered across reloads. */
export interface DocSyncState {
  url: DocUrl
  /**
   * Heads the relay reported as written to its disk (Automerge change hashes, hex): a change they
   * include is acknowledged. A relay that does not report its writes (shared/persisted-heads.ts) is
   * taken at the word of its sync messages instead.
   */
  relayHeads: string[]
  at: number
}

/** A feed's signature check on this device: its owner's last valid version and what was left out. */
export interface FeedCheckRow {
  url: DocUrl
  owner: MemberId
  neighbourhood: DocUrl
  /** Heads of the owner's last valid version. */
  heads: string[]
  /** Changes not validly signed by the owner (or depending on one): the feed shows a warning. */
  invalid: string[]
  /** The feed holds a change validly signed by its owner (otherwise it is a legacy feed). */
  signed: boolean
}

/** The index holds the rows of this feed's version at `heads` (someone else's feed: no pending marks). */
export interface ProjectionRow {
  url: DocUrl
  heads: string[]
  /** shared/projector.ts `PROJECTION_VERSION` when they were written: another version projects again. */
  version: number
}

export type SettingKey = 'language' | 'currentProfile' | 'lastRelaySync' | 'pendingChanges' | 'lastFileImport' | 'lastFileExport' | 'lastDirectSync' | 'invitation' | 'vouchedFeeds' | 'relayTicket'
export interface Setting {
  key: SettingKey
  value: string | number | null | PendingInvitation | string[]
}

/**
 * An invitation opened on this device, with the keys made for the newcomer: the device signs in
 * with them to read the neighbourhood before joining, and joins as that member.
 */
export interface PendingInvitation {
  token: string
  /** The neighbourhood document's ID. */
  neighbourhood: string
  keys: { publicKey: Uint8Array; secretKey: Uint8Array }
}

export type PlacetteDb = Dexie & {
  /** Keyed by [feed, id]. */
  posts: Table<BoardPost, [string, string]>
  /** Keyed by [feed, id] (the answer's author's feed). */
  answers: Table<BoardAnswer, [string, string]>
  comments: Table<BoardComment, [string, string]>
  outcomes: EntityTable<OutcomeRow, 'key'>
  members: EntityTable<MemberRow, 'key'>
  neighbourhoods: EntityTable<NeighbourhoodRow, 'url'>
  profiles: EntityTable<Profile, 'id'>
  settings: EntityTable<Setting, 'key'>
  syncState: EntityTable<DocSyncState, 'url'>
  feedChecks: EntityTable<FeedCheckRow, 'url'>
  projections: EntityTable<ProjectionRow, 'url'>
}

export const DB_NAME = 'placette-index'

export function openDb(name = DB_NAME): PlacetteDb {
  const db = new Dexie(name) as PlacetteDb
  db.version(1).stores({
    // [feed+id]: a post is identified within its author's feed, so one feed cannot overwrite another's rows.
    posts: '[feed+id], id, feed, [neighbourhood+createdAt], [neighbourhood+kind]',
    members: 'key, neighbourhood, id, feed',
    neighbourhoods: 'url',
    profiles: 'id, neighbourhood',
    settings: 'key',
    syncState: 'url',
  })
  // Version 2: the board issue (answers, comments, outcomes). Index tables only: the projector refills them.
  db.version(2).stores({
    posts: '[feed+id], id, feed, [neighbourhood+createdAt], [neighbourhood+kind]',
    answers: '[feed+id], feed, [postFeed+post], neighbourhood',
    comments: '[feed+id], feed, [postFeed+post], neighbourhood',
    outcomes: 'key, postFeed, [neighbourhood+helper]',
  })
  // Version 3: signed feed changes; what was verified is remembered per feed.
  db.version(3).stores({ feedChecks: 'url, neighbourhood' })
  // Version 4: which version of each feed the index holds, so a cold start skips the unchanged ones.
  db.version(4).stores({ projections: 'url' })
  return db
}

/** Index tables: safe to drop, rebuilt by the projector. */
export const INDEX_TABLES = ['posts', 'answers', 'comments', 'outcomes', 'members', 'neighbourhoods', 'projections'] as const
