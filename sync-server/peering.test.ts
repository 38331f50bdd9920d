import type { DocumentId, PeerId, Repo } from '@automerge/automerge-repo'
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { parseClientMessage } from '../shared/protocol.ts'
import { isUpstreamPeer, RelaySharing, remotePeerIdOf, upstreamPeerId } from './peering.ts'
import { waitFor } from '../tests/helpers/wait-for.ts'

const doc = (n: number) => `doc${n}` as DocumentId
const peer = (name: string) => name as PeerId

describe('upstream peer names', () => {
  it('name an upstream by connection and peer ID, and give its peer ID back', () => {
    const alias = upstreamPeerId(2, 'relay-9f3a')
    expect(alias).toBe('upstream/2/relay-9f3a')
    expect(isUpstreamPeer(alias)).toBe(true)
    expect(remotePeerIdOf(alias)).toBe('relay-9f3a')
    expect(isUpstreamPeer('peer-abc')).toBe(false)
    expect(remotePeerIdOf('peer-abc')).toBeUndefined()
  })

  it('cannot be claimed by a client: the protocol refuses such a peer ID at join', () => {
    const claimed = parseClientMessage({ type: 'join', senderId: upstreamPeerId(0, 'relay-9f3a'), peerMetadata: {}, supportedProtocolVersions: ['1'] })
    expect(claimed.ok).toBe(false)
  })
})

describe('RelaySharing', () => {
  /** The sharing rules, attached to a stand-in for the repo whose inbound messages the test makes up. */
  function setup(maxPeers?: number) {
    const sharing = new RelaySharing(maxPeers)
    const networkSubsystem = new EventEmitter()
    const synchronizers = new Map<DocumentId, { begun: PeerId[][]; ended: PeerId[] }>()
    const docSynchronizers: Record<string, unknown> = {}
    const handles: Record<string, unknown> = {}
    for (const id of [doc(1), doc(2)]) {
      const record = { begun: [] as PeerId[][], ended: [] as PeerId[] }
      synchronizers.set(id, record)
      docSynchronizers[id] = {
        hasPeer: () => false,
        beginSync: async (peers: PeerId[]) => void record.begun.push(peers),
        endSync: (p: PeerId) => void record.ended.push(p),
      }
      handles[id] = { whenReady: async () => undefined }
    }
    sharing.attach({ networkSubsystem, synchronizer: { docSynchronizers }, handles, peers: [] } as unknown as Repo)
    const receive = (type: string, senderId: string, documentId: DocumentId) =>
      networkSubsystem.emit('message', { type, senderId, targetId: 'relay-1', documentId, data: new Uint8Array() })
    const leave = (peerId: string) => networkSubsystem.emit('peer-disconnected', { peerId })
    return { sharing, ...sharing.shareConfig, receive, leave, synchronizers }
  }

  it('announces every document to upstreams, none to a client', async () => {
    const { announce, receive } = setup()
    receive('sync', 'peer-a', doc(1))
    expect(await announce(upstreamPeerId(0, 'relay-x'), doc(1))).toBe(true)
    expect(await announce(peer('peer-a'), doc(1))).toBe(false)
  })

  it('remembers which documents each client asked for', () => {
    const { sharing, receive } = setup()
    receive('request', 'peer-a', doc(1))
    receive('sync', 'peer-b', doc(2))
    expect(sharing.asked(peer('peer-a'), doc(1))).toBe(true)
    expect(sharing.asked(peer('peer-a'), doc(2))).toBe(false)
    expect(sharing.asked(peer('peer-b'), doc(2))).toBe(true)
  })

  it('restarts its side of a client\'s syncs when the client goes, then lets the client go', async () => {
    const { receive, leave, synchronizers } = setup()
    receive('sync', 'peer-a', doc(1))
    leave('peer-a')
    const one = synchronizers.get(doc(1))!
    await waitFor(() => one.ended.length === 1, { message: 'the reset ends' })
    expect(one.begun).toEqual([[peer('peer-a')]])
    expect(one.ended).toEqual([peer('peer-a')])
    expect(synchronizers.get(doc(2))!.begun).toEqual([])
  })

  it('does not count automerge-repo\'s own access checks as asking', async () => {
    const { sharing, access } = setup()
    expect(await access(peer('peer-a'), doc(1))).toBe(true)
    expect(sharing.asked(peer('peer-a'), doc(1))).toBe(false)
  })

  it('forgets the least recently active clients beyond its limit', () => {
    const { sharing, receive } = setup(2)
    receive('sync', 'peer-a', doc(1))
    receive('sync', 'peer-b', doc(1))
    receive('sync', 'peer-a', doc(2)) // peer-a is active again
    receive('sync', 'peer-c', doc(1))
    expect(sharing.asked(peer('peer-b'), doc(1))).toBe(false)
    expect(sharing.asked(peer('peer-a'), doc(1))).toBe(true)
    expect(sharing.asked(peer('peer-c'), doc(1))).toBe(true)
  })
})
