import * as A from '@automerge/automerge'
import type { AutomergeUrl, DocHandle } from '@automerge/automerge-repo'
import { newFeed, newPost, type FeedDoc, type PostInput } from '../../shared/schema/feed.ts'
import { newNeighbourhood, validateNeighbourhood, type Commune, type NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import { newMemberId, newPostId, type DocUrl, type PostId } from '../../shared/ids.ts'
import { LIMITS } from '../../shared/domain.ts'
import { assertValid } from '../../shared/validate.ts'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import * as v from 'valibot'
import type { PlacetteDb, Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'

/**
 * Commands: every write a person makes. Each one changes the author's own document (or, to join,
 * adds them to the neighbourhood's registry); the projector updates the index from there.
 */

const asUrl = (url: DocUrl) => url as string as AutomergeUrl

const displayName = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(LIMITS.displayName))
const createInput = v.object({
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(LIMITS.neighbourhoodName)),
  displayName,
  commune: v.object({ insee: v.string(), name: v.string(), postcode: v.string() }),
})
export type CreateNeighbourhoodInput = v.InferInput<typeof createInput>

async function saveProfile(db: PlacetteDb, profile: Profile): Promise<Profile> {
  await db.transaction('rw', db.profiles, db.settings, async () => {
    await db.profiles.put(profile)
    await db.settings.put({ key: 'currentProfile', value: profile.id })
  })
  return profile
}

export async function createNeighbourhood(rt: Runtime, db: PlacetteDb, input: CreateNeighbourhoodInput): Promise<Profile> {
  const valid = assertValid(createInput, input)
  const me = newMemberId()
  const now = Date.now()
  const n = rt.repo.create<NeighbourhoodDoc>()
  const feed = rt.repo.create<FeedDoc>(newFeed(n.url as DocUrl, me))
  const doc = newNeighbourhood({
    name: valid.name,
    commune: valid.commune as Commune,
    creator: me,
    creatorName: valid.displayName,
    creatorFeed: feed.url as DocUrl,
    now,
  })
  // Checked before writing: a bad commune must not make an unreadable neighbourhood.
  const checked = validateNeighbourhood(doc)
  if (!checked.ok) throw new PlacetteError(Reason.invalidInput, 'invalid neighbourhood', checked.issues)
  n.change((d) => Object.assign(d, doc))
  return startProfile(rt, db, { id: me, displayName: valid.displayName, neighbourhood: n.url as DocUrl, feed: feed.url as DocUrl, createdAt: now })
}

/** Finds a neighbourhood by URL (from this device or the relay); undefined if nobody has it now. */
export async function findNeighbourhood(rt: Runtime, url: DocUrl): Promise<NeighbourhoodDoc | undefined> {
  let handle: DocHandle<NeighbourhoodDoc>
  try {
    handle = await rt.repo.find<NeighbourhoodDoc>(asUrl(url))
  } catch {
    return undefined
  }
  const checked = validateNeighbourhood(handle.doc())
  return checked.ok ? checked.value : undefined
}

export async function joinNeighbourhood(rt: Runtime, db: PlacetteDb, url: DocUrl, name: string): Promise<Profile> {
  const valid = assertValid(displayName, name)
  const existing = await db.profiles.where('neighbourhood').equals(url).first()
  if (existing) return startProfile(rt, db, existing)
  let n: DocHandle<NeighbourhoodDoc>
  try {
    n = await rt.repo.find<NeighbourhoodDoc>(asUrl(url))
  } catch {
    throw new PlacetteError(Reason.notFound, `neighbourhood ${url} is not available`)
  }
  if (!validateNeighbourhood(n.doc()).ok) throw new PlacetteError(Reason.invalidDocument, `${url} is not a neighbourhood`)
  const me = newMemberId()
  const now = Date.now()
  const feed = rt.repo.create<FeedDoc>(newFeed(url, me))
  n.change((d) => {
    d.members[me] = { displayName: valid, joinedAt: now, feed: feed.url as DocUrl }
  })
  return startProfile(rt, db, { id: me, displayName: valid, neighbourhood: url, feed: feed.url as DocUrl, createdAt: now })
}

/** Saves the profile as this device's current one and starts projecting its neighbourhood. */
export async function startProfile(rt: Runtime, db: PlacetteDb, profile: Profile): Promise<Profile> {
  await saveProfile(db, profile)
  watchProfile(rt, profile)
  return profile
}

export function watchProfile(rt: Runtime, profile: Profile): void {
  rt.projector.setOwn([profile.feed, profile.neighbourhood])
  void rt.projector.watchNeighbourhood(profile.neighbourhood)
}

/** Posts a request or an offer into the author's feed. Throws a PlacetteError listing bad fields. */
export async function postItem(rt: Runtime, profile: Profile, input: PostInput): Promise<PostId> {
  const id = newPostId()
  const post = newPost(input, id, Date.now())
  const feed = await rt.repo.find<FeedDoc>(asUrl(profile.feed))
  feed.change((d) => {
    d.posts[id] = {
      ...post,
      // Immutable strings: smaller and faster than collaborative text (DESIGN.md §2).
      title: new A.ImmutableString(post.title) as unknown as string,
      body: new A.ImmutableString(post.body) as unknown as string,
    }
  })
  await rt.projector.settled()
  return id
}
