import { createContext, createSignal, useContext, type Accessor, type ParentProps } from 'solid-js'
import { openDb, type PlacetteDb, type Profile } from '../db/db.ts'
import type { MemberRow, NeighbourhoodRow } from '../../shared/projector.ts'
import type { CommentId, DocUrl, MemberId, PostId } from '../../shared/ids.ts'
import type { PostInput, PostRef } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import { defaultLanguage, isLanguage, setLanguage, type Language } from '../i18n/index.ts'
import type { RelayConnection } from '../sync/websocket-adapter.ts'
import type { ChatMessage, CreateNeighbourhoodInput } from './commands.ts'
import { createLiveQuery } from './live.ts'
import { createDirectStore, type DirectStore } from './direct.ts'
import { StorageHealth, type StorageHealthState } from '../sync/storage-health.ts'

/**
 * The app's one store: the only place the UI gets data from and sends commands to. It opens the index
 * first (so the board paints at once, even offline) and loads Automerge and the sync engine after.
 */
export interface AppStore {
  profile: Accessor<Profile | undefined>
  neighbourhood: Accessor<NeighbourhoodRow | undefined>
  memberNames: Accessor<Map<MemberId, string>>
  /** Members whose feed holds changes not signed by them: their last valid version is shown, with a warning. */
  unverified: Accessor<Set<MemberId>>
  /** The neighbourhood's members, with their status (référent, member, new neighbour…). */
  members: Accessor<MemberRow[]>
  /** Whether the current profile is a référent of its neighbourhood (may post official news). */
  isReferent: Accessor<boolean>
  status: {
    connection: Accessor<RelayConnection>
    pendingChanges: Accessor<number>
    lastSync: Accessor<number | undefined>
    /** When this device last exchanged by each path: relay, file (in or out), direct link. */
    lastByPath: Accessor<{ relay?: number; fileIn?: number; fileOut?: number; direct?: number }>
  }
  /** The index database, for the read stores in this folder (never for views). */
  db: PlacetteDb
  createNeighbourhood(input: CreateNeighbourhoodInput): Promise<Profile>
  findNeighbourhood(url: DocUrl): Promise<NeighbourhoodDoc | undefined>
  joinNeighbourhood(url: DocUrl, displayName: string): Promise<Profile>
  /** An invitation link was opened: keeps it and signs in as the newcomer (throws on a damaged one). */
  openInvitation(token: string): Promise<{ neighbourhood: DocUrl; expires: number }>
  /** A référent's signed invitation. */
  makeInvitation(options: { validDays: number; uses: number }): Promise<{ token: string; expires: number }>
  vouch(member: MemberId): Promise<void>
  /** Référents only: name another référent, or revoke a member. */
  setRole(member: MemberId, role: 'referent' | 'revoked'): Promise<void>
  /** The code to show to link another device to this member; and taking one up on this device. */
  deviceLink(): Promise<string>
  /** Leaves the neighbourhood, erasing what this member wrote (needs the relay). */
  leave(): Promise<void>
  linkThisDevice(token: string): Promise<Profile>
  /** Private messages with one neighbour, sealed for the two of them. */
  sendMessage(them: MemberId, text: string): Promise<void>
  watchConversation(them: MemberId, onChange: (messages: ChatMessage[]) => void): Promise<() => void>
  post(input: PostInput): Promise<PostRef>
  editPost(id: PostId, input: PostInput): Promise<void>
  deletePost(id: PostId): Promise<void>
  answer(ref: PostRef, message: string): Promise<void>
  withdrawAnswer(ref: PostRef): Promise<void>
  accept(id: PostId, helper: MemberId): Promise<void>
  close(id: PostId, status: 'done' | 'cancelled'): Promise<void>
  renew(id: PostId): Promise<void>
  thank(id: PostId, helper: MemberId, note: string): Promise<void>
  noShow(id: PostId, helper: MemberId): Promise<void>
  comment(ref: PostRef, body: string): Promise<void>
  editComment(id: CommentId, body: string): Promise<void>
  deleteComment(id: CommentId): Promise<void>
  /** A sync file of the current neighbourhood. */
  exportFile(): Promise<{ bytes: Uint8Array; name: string }>
  /** Device-to-device links over WebRTC. */
  direct: DirectStore
  /** Opens a sync file (works with no profile: it then lets the person join from it). */
  importFile(bytes: Uint8Array): Promise<{ neighbourhood: DocUrl; changed: number }>
  chooseLanguage(lang: Language): Promise<void>
  rebuildIndex(): Promise<void>
  /** A file with everything of the current profile, its secret key included (only ever downloaded). */
  backupProfile(): Promise<{ bytes: Uint8Array; name: string }>
  /** Restores a profile from its backup file and makes it this device's current one. */
  restoreProfile(bytes: Uint8Array): Promise<{ name: string; neighbourhood: string }>
  /**
   * The current screen has its content: the engine (Automerge and sync) loads once that is painted,
   * rather than competing with it (the board calls it, the layout for every other screen). Should
   * nothing call it, the engine starts a second after the store.
   */
  screenShown(): void
  /** Whether this device manages to write (a full device keeps what it has in memory and retries). */
  storage: { health: Accessor<StorageHealthState>; retry(): Promise<void> }
}

const Context = createContext<AppStore>()

/** The engine starts at the latest this long after the store, if no screen said it was shown. */
const ENGINE_AT_LATEST_MS = 1000

const loadEngine = () => Promise.all([import('../sync/runtime.ts'), import('./commands.ts')])
type Engine = Awaited<ReturnType<typeof loadEngine>>
type Runtime = ReturnType<Engine[0]['startRuntime']>

export async function createAppStore(): Promise<AppStore> {
  const db = openDb()
  const health = new StorageHealth()
  const [healthState, setHealthState] = createSignal(health.state)
  health.subscribe(setHealthState)
  // A browser whose IndexedDB fails still shows the app, with the storage banner, rather than nothing.
  const [languageSetting, currentSetting] = await Promise.all([db.settings.get('language'), db.settings.get('currentProfile')]).catch((e: unknown) => {
    health.failed('index', e, 0)
    return [undefined, undefined] as const
  })
  setLanguage(isLanguage(languageSetting?.value) ? languageSetting.value : defaultLanguage(navigator.languages ?? []))
  const initialProfile = typeof currentSetting?.value === 'string' ? await db.profiles.get(currentSetting.value as MemberId).catch(() => undefined) : undefined
  const [profile, setProfile] = createSignal<Profile | undefined>(initialProfile)
  const [connection, setConnection] = createSignal<RelayConnection>(navigator.onLine ? { state: 'connecting', attempt: 0 } : { state: 'offline' })

  // Automerge (3.6 MB of wasm) and the sync engine load once the first screen is painted (see
  // `screenShown`): loading them earlier makes the board wait on a slow phone. A command starts them at once.
  let startEngine!: () => void
  const wanted = new Promise<void>((resolve) => (startEngine = resolve))
  const engine: Promise<Engine & { rt: Runtime }> = wanted.then(loadEngine).then(([runtime, commands]) => {
    const rt = runtime.startRuntime(db, health)
    rt.relay.onConnection(setConnection)
    const p = profile()
    if (p) commands.watchProfile(rt, db, p)
    return Object.assign([runtime, commands] as Engine, { rt })
  })

  const neighbourhood = createLiveQuery(profile, async (p) => (p ? db.neighbourhoods.get(p.neighbourhood) : undefined), undefined)
  const memberNames = createLiveQuery(
    profile,
    async (p) => new Map(p ? (await db.members.where('neighbourhood').equals(p.neighbourhood).toArray()).map((m) => [m.id, m.displayName] as const) : []),
    new Map<MemberId, string>(),
  )
  const members = createLiveQuery(
    profile,
    async (p) => (p ? (await db.members.where('neighbourhood').equals(p.neighbourhood).toArray()).sort((a, b) => a.joinedAt - b.joinedAt) : []),
    [] as MemberRow[],
  )
  const unverified = createLiveQuery(
    profile,
    async (p) => new Set(p ? (await db.feedChecks.where('neighbourhood').equals(p.neighbourhood).toArray()).filter((c) => c.invalid.length > 0).map((c) => c.owner) : []),
    new Set<MemberId>(),
  )
  const isReferent = createLiveQuery(
    profile,
    async (p) => (p ? !!(await db.members.get(`${p.neighbourhood} ${p.id}`))?.referent : false),
    false,
  )
  const pendingChanges = createLiveQuery(() => 0, async () => Number((await db.settings.get('pendingChanges'))?.value ?? 0), 0)
  const lastSync = createLiveQuery(
    () => 0,
    async () => {
      const v = (await db.settings.get('lastRelaySync'))?.value
      return typeof v === 'number' ? v : undefined
    },
    undefined as number | undefined,
  )

  const lastByPath = createLiveQuery(
    () => 0,
    async () => {
      const rows = await db.settings.bulkGet(['lastRelaySync', 'lastFileImport', 'lastFileExport', 'lastDirectSync'])
      const at = (i: number) => (typeof rows[i]?.value === 'number' ? (rows[i]!.value as number) : undefined)
      return { relay: at(0), fileIn: at(1), fileOut: at(2), direct: at(3) }
    },
    {} as { relay?: number; fileIn?: number; fileOut?: number; direct?: number },
  )

  const requireProfile = (): Profile => {
    const p = profile()
    if (!p) throw new PlacetteError(Reason.notAllowed, 'no profile on this device')
    return p
  }

  /** The engine, started now if it was not yet. */
  const ready = () => {
    startEngine()
    return engine
  }
  // Should no screen say it is shown, the engine starts a second after the store all the same.
  setTimeout(startEngine, ENGINE_AT_LATEST_MS)
  let shown = false

  const direct = createDirectStore(
    engine.then((e) => e.rt),
    db,
    profile,
  )

  /** Runs a command of the current profile once the engine is loaded. */
  const withEngine = async <T,>(run: (rt: Runtime, commands: Engine[1], profile: Profile) => Promise<T>): Promise<T> => {
    const p = requireProfile()
    const { rt, 1: commands } = await ready()
    return run(rt, commands, p)
  }

  return {
    db,
    profile,
    neighbourhood,
    memberNames,
    unverified,
    members,
    isReferent,
    direct,
    status: { connection, pendingChanges, lastSync, lastByPath },
    storage: { health: healthState, retry: () => health.retry() },
    screenShown() {
      if (shown) return
      shown = true
      // After the frame that shows it.
      requestAnimationFrame(() => setTimeout(startEngine, 0))
    },
    async createNeighbourhood(input) {
      const { rt, 1: commands } = await ready()
      return setProfile(await commands.createNeighbourhood(rt, db, input))
    },
    async findNeighbourhood(url) {
      const { rt, 1: commands } = await ready()
      return commands.findNeighbourhood(rt, url)
    },
    async joinNeighbourhood(url, displayName) {
      const { rt, 1: commands } = await ready()
      return setProfile(await commands.joinNeighbourhood(rt, db, url, displayName))
    },
    async openInvitation(token) {
      const { rt, 1: commands } = await ready()
      return commands.openInvitation(rt, db, token)
    },
    makeInvitation: (options) => withEngine(async (_rt, c, p) => c.makeInvitation(p, options)),
    vouch: (member) => withEngine((rt, c, p) => c.vouchFor(rt, p, member)),
    setRole: (member, role) => withEngine((rt, c, p) => c.setRole(rt, p, member, role)),
    leave: () =>
      withEngine(async (rt, c, p) => {
        await c.leaveNeighbourhood(rt, db, p)
        setProfile(undefined)
      }),
    deviceLink: () => withEngine(async (_rt, c, p) => c.deviceLinkFor(p)),
    async linkThisDevice(token) {
      const { rt, 1: commands } = await ready()
      return setProfile(await commands.linkThisDevice(rt, db, token))
    },
    sendMessage: (them, text) => withEngine((rt, c, p) => c.sendMessage(rt, p, them, text)),
    watchConversation: (them, onChange) => withEngine((rt, c, p) => c.watchConversation(rt, p, them, onChange)),
    post: (input) => withEngine((rt, c, p) => c.postItem(rt, db, p, input)),
    editPost: (id, input) => withEngine((rt, c, p) => c.editPost(rt, db, p, id, input)),
    deletePost: (id) => withEngine((rt, c, p) => c.deletePost(rt, p, id)),
    answer: (ref, message) => withEngine((rt, c, p) => c.answerPost(rt, db, p, ref, message)),
    withdrawAnswer: (ref) => withEngine((rt, c, p) => c.withdrawAnswer(rt, p, ref)),
    accept: (id, helper) => withEngine((rt, c, p) => c.acceptHelper(rt, db, p, id, helper)),
    close: (id, status) => withEngine((rt, c, p) => c.closePost(rt, db, p, id, status)),
    renew: (id) => withEngine((rt, c, p) => c.renewPost(rt, db, p, id)),
    thank: (id, helper, note) => withEngine((rt, c, p) => c.recordOutcome(rt, db, p, id, helper, { kind: 'thanks', note })),
    noShow: (id, helper) => withEngine((rt, c, p) => c.recordOutcome(rt, db, p, id, helper, { kind: 'no-show' })),
    comment: (ref, body) => withEngine((rt, c, p) => c.addComment(rt, p, ref, body)),
    editComment: (id, body) => withEngine((rt, c, p) => c.editComment(rt, p, id, body)),
    deleteComment: (id) => withEngine((rt, c, p) => c.deleteComment(rt, p, id)),
    exportFile: () =>
      withEngine(async (rt, c, p) => {
        const file = await c.exportNeighbourhoodFile(rt, db, p)
        await db.settings.put({ key: 'lastFileExport', value: Date.now() })
        return file
      }),
    async importFile(bytes) {
      const { rt, 1: commands } = await ready()
      return commands.importNeighbourhoodFile(rt, db, profile(), bytes)
    },
    backupProfile: () => withEngine(async (rt, _c, p) => (await import('./backup.ts')).exportProfileBackup(rt, db, p)),
    async restoreProfile(bytes) {
      const [{ rt }, backup] = await Promise.all([ready(), import('./backup.ts')])
      const restored = await backup.restoreProfileBackup(rt, db, bytes)
      if (restored.language) setLanguage(restored.language)
      setProfile(restored.profile)
      return { name: restored.profile.displayName, neighbourhood: restored.neighbourhoodName }
    },
    async chooseLanguage(lang) {
      setLanguage(lang)
      await db.settings.put({ key: 'language', value: lang })
    },
    async rebuildIndex() {
      const { rt } = await ready()
      await rt.projector.rebuild()
    },
  }
}

export function AppProvider(props: ParentProps<{ store: AppStore }>) {
  return <Context.Provider value={props.store}>{props.children}</Context.Provider>
}

export function useApp(): AppStore {
  const store = useContext(Context)
  if (!store) throw new Error('useApp outside AppProvider')
  return store
}
