/**
 * Private messages between two members (shared/schema/conversation.ts): finding or starting the pair's
 * conversation, sealing what one writes, opening what the other wrote. Part of the lazily loaded engine.
 */
import type { AutomergeUrl, DocHandle } from '@automerge/automerge-repo'
import { decodeKey } from '../../shared/identity.ts'
import { conversationKey } from '../../shared/sealed.ts'
import {
  conversationLocator,
  messageInputSchema,
  newConversation,
  newEntryId,
  openEntry,
  sealEntry,
  validateConversation,
  type ConversationDoc,
} from '../../shared/schema/conversation.ts'
import type { NeighbourhoodDoc } from '../../shared/schema/neighbourhood.ts'
import type { DocUrl, MemberId } from '../../shared/ids.ts'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import { assertValid } from '../../shared/validate.ts'
import type { Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'

export interface ChatMessage {
  id: string
  from: MemberId
  at: number
  /** Undefined when the entry cannot be opened (damaged, or sealed with another key). */
  text: string | undefined
}

const asUrl = (url: DocUrl) => url as string as AutomergeUrl

async function pair(rt: Runtime, profile: Profile, them: MemberId) {
  if (!profile.keys) throw new PlacetteError(Reason.notAllowed, 'this profile has no keys')
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  const theirKey = n.doc().members[them]?.publicKey
  const publicKey = theirKey ? decodeKey(theirKey) : undefined
  if (!publicKey || them === profile.id) throw new PlacetteError(Reason.notFound, 'no such neighbour to write to')
  const key = conversationKey(profile.keys.secretKey, publicKey, profile.id, them)
  return { n, key, locator: conversationLocator(key) }
}

/** The pair's conversation: listed by either of them (the first listed if both started one). */
async function find(rt: Runtime, profile: Profile, them: MemberId, create: boolean) {
  const { n, key, locator } = await pair(rt, profile, them)
  const doc = n.doc()
  const urls = [doc.members[profile.id]?.conversations?.[locator], doc.members[them]?.conversations?.[locator]].filter((u): u is DocUrl => !!u).sort()
  let handle: DocHandle<ConversationDoc> | undefined
  if (urls[0]) handle = await rt.repo.find<ConversationDoc>(asUrl(urls[0]), { allowableStates: ['ready', 'unavailable'] })
  else if (create) {
    handle = rt.repo.create<ConversationDoc>(newConversation(profile.neighbourhood, profile.id, them))
    // The conversation on disk before the registry names it (as feeds are).
    await rt.repo.flush([handle.documentId])
    n.change((d) => {
      const entry = d.members[profile.id]
      if (!entry) return
      entry.conversations ??= {}
      entry.conversations[locator] = handle!.url as DocUrl
    })
  }
  return { handle, key }
}

export async function sendMessage(rt: Runtime, profile: Profile, them: MemberId, text: string): Promise<void> {
  const valid = assertValid(messageInputSchema, text)
  const { handle, key } = await find(rt, profile, them, true)
  if (!handle?.isReady()) throw new PlacetteError(Reason.notFound, 'the conversation is not on this device yet')
  handle.change((d) => {
    d.entries[newEntryId()] = sealEntry(key, profile.id, valid, Date.now())
  })
}

/** Calls `onChange` with the conversation now and whenever it changes; returns a function that stops. */
export async function watchConversation(rt: Runtime, profile: Profile, them: MemberId, onChange: (messages: ChatMessage[]) => void): Promise<() => void> {
  let stop = () => {}
  let handle: DocHandle<ConversationDoc> | undefined
  const n = await rt.repo.find<NeighbourhoodDoc>(asUrl(profile.neighbourhood))
  const show = () => {
    const checked = handle?.isReady() ? validateConversation(handle.doc()) : undefined
    if (!checked?.ok || !checked.value.members.includes(profile.id) || !checked.value.members.includes(them)) return onChange([])
    const messages = Object.entries(checked.value.entries).map(([id, e]) => ({ id, from: e.from, at: e.at, text: openEntry(key, e) }))
    onChange(messages.filter((m) => m.from === profile.id || m.from === them).sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)))
  }
  let key: Uint8Array
  const attach = async () => {
    const found = await find(rt, profile, them, false)
    key = found.key
    if (found.handle && found.handle !== handle) {
      stop()
      handle = found.handle
      const h = handle
      h.on('change', show)
      stop = () => h.off('change', show)
      if (!h.isReady()) void h.whenReady().then(show, () => undefined)
    }
    show()
  }
  // The other member may start the conversation later: follow the registry until it appears.
  const onRegistry = () => void attach()
  n.on('change', onRegistry)
  await attach()
  return () => {
    n.off('change', onRegistry)
    stop()
  }
}
