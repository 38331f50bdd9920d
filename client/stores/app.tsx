import { createContext, createSignal, useContext, type Accessor, type ParentProps } from 'solid-js'
import { openDb, type PlacetteDb, type Profile } from '../db/db.ts'
import type { NeighbourhoodRow } from '../../shared/projector.ts'
import type { DocUrl, MemberId } from '../../shared/ids.ts'
import type { PostInput } from '../../shared/schema/feed.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import { defaultLanguage, isLanguage, setLanguage, type Language } from '../i18n/index.ts'
import type { RelayConnection } from '../sync/websocket-adapter.ts'
import type { CreateNeighbourhoodInput } from './commands.ts'
import { createLiveQuery } from './live.ts'

/**
 * The app's one store: the only place the UI gets data from and sends commands to. It opens the index
 * first (so the board paints at once, even offline) and loads Automerge and the sync engine after.
 */
export interface AppStore {
  profile: Accessor<Profile | undefined>
  neighbourhood: Accessor<NeighbourhoodRow | undefined>
  memberNames: Accessor<Map<MemberId, string>>
  status: {
    connection: Accessor<RelayConnection>
    pendingChanges: Accessor<number>
    lastSync: Accessor<number | undefined>
  }
  /** The index database, for the read stores in this folder (never for views). */
  db: PlacetteDb
  createNeighbourhood(input: CreateNeighbourhoodInput): Promise<Profile>
  findNeighbourhood(url: DocUrl): Promise<NeighbourhoodDoc | undefined>
  joinNeighbourhood(url: DocUrl, displayName: string): Promise<Profile>
  post(input: PostInput): Promise<void>
  chooseLanguage(lang: Language): Promise<void>
  rebuildIndex(): Promise<void>
}

const Context = createContext<AppStore>()

const loadEngine = () => Promise.all([import('../sync/runtime.ts'), import('./commands.ts')])
type Engine = Awaited<ReturnType<typeof loadEngine>>

export async function createAppStore(): Promise<AppStore> {
  const db = openDb()
  const [languageSetting, currentSetting] = await Promise.all([db.settings.get('language'), db.settings.get('currentProfile')])
  setLanguage(isLanguage(languageSetting?.value) ? languageSetting.value : defaultLanguage(navigator.languages ?? []))
  const initialProfile = typeof currentSetting?.value === 'string' ? await db.profiles.get(currentSetting.value as MemberId) : undefined
  const [profile, setProfile] = createSignal<Profile | undefined>(initialProfile)
  const [connection, setConnection] = createSignal<RelayConnection>(navigator.onLine ? { state: 'connecting', attempt: 0 } : { state: 'offline' })

  // Automerge (3.6 MB of wasm) loads after the first paint; commands wait for it.
  const engine: Promise<Engine & { rt: ReturnType<Engine[0]['startRuntime']> }> = loadEngine().then(([runtime, commands]) => {
    const rt = runtime.startRuntime(db)
    rt.relay.onConnection(setConnection)
    const p = profile()
    if (p) commands.watchProfile(rt, p)
    return Object.assign([runtime, commands] as Engine, { rt })
  })

  const neighbourhood = createLiveQuery(profile, async (p) => (p ? db.neighbourhoods.get(p.neighbourhood) : undefined), undefined)
  const memberNames = createLiveQuery(
    profile,
    async (p) => new Map(p ? (await db.members.where('neighbourhood').equals(p.neighbourhood).toArray()).map((m) => [m.id, m.displayName] as const) : []),
    new Map<MemberId, string>(),
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

  const requireProfile = (): Profile => {
    const p = profile()
    if (!p) throw new PlacetteError(Reason.notAllowed, 'no profile on this device')
    return p
  }

  return {
    db,
    profile,
    neighbourhood,
    memberNames,
    status: { connection, pendingChanges, lastSync },
    async createNeighbourhood(input) {
      const { rt, 1: commands } = await engine
      return setProfile(await commands.createNeighbourhood(rt, db, input))
    },
    async findNeighbourhood(url) {
      const { rt, 1: commands } = await engine
      return commands.findNeighbourhood(rt, url)
    },
    async joinNeighbourhood(url, displayName) {
      const { rt, 1: commands } = await engine
      return setProfile(await commands.joinNeighbourhood(rt, db, url, displayName))
    },
    async post(input) {
      const p = requireProfile()
      const { rt, 1: commands } = await engine
      await commands.postItem(rt, p, input)
    },
    async chooseLanguage(lang) {
      setLanguage(lang)
      await db.settings.put({ key: 'language', value: lang })
    },
    async rebuildIndex() {
      const { rt } = await engine
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
