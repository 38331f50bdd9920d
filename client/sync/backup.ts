import type { Repo } from '@automerge/automerge-repo'
import { PlacetteError, Reason } from '../../shared/errors.ts'
import { encodeKey } from '../../shared/identity.ts'
import { BACKUP_FORMAT, BACKUP_VERSION, checkBackupFile, type BackupContents, type BackupProfile, type BackupSettings } from '../../shared/backup.ts'
import type { Profile } from '../db/db.ts'
import { loadNeighbourhoodDocs, neighbourhoodDocs, packFile, unpackFile } from './syncfile.ts'

/** Writes a profile's backup: its neighbourhood's documents as this device holds them, its keys, its settings. */
export async function exportBackup(repo: Repo, profile: Profile, settings: BackupSettings): Promise<Uint8Array> {
  const docs = await neighbourhoodDocs(repo, profile.neighbourhood)
  const { id, displayName, neighbourhood, feed, createdAt, keys } = profile
  const contents: BackupContents = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    createdAt: Date.now(),
    profile: { id, displayName, neighbourhood, feed, createdAt, ...(keys ? { keys: { publicKey: keys.publicKey, secretKey: keys.secretKey } } : {}) },
    settings,
    docs,
  }
  return packFile(contents)
}

export interface CheckedBackup {
  profile: BackupProfile
  settings: BackupSettings
  neighbourhoodName: string
  createdAt: number
  docs: BackupContents['docs']
}

/**
 * Reads a backup and checks all of it before anything is written: the container and profile
 * (shared/backup.ts), every document loads and belongs to the profile's neighbourhood, and that
 * neighbourhood's registry names this member with this feed and this public key.
 */
export async function readBackup(bytes: Uint8Array): Promise<CheckedBackup> {
  const contents = checkBackupFile(await unpackFile(bytes, Reason.notBackupFile))
  const { profile } = contents
  const n = loadNeighbourhoodDocs(profile.neighbourhood, contents.docs)
  const member = n.members[profile.id]
  if (!member || member.feed !== profile.feed) throw new PlacetteError(Reason.corruptFile, 'the neighbourhood does not know this member')
  if (profile.keys && member.publicKey !== undefined && member.publicKey !== encodeKey(profile.keys.publicKey)) {
    throw new PlacetteError(Reason.corruptFile, 'the neighbourhood knows this member by another key')
  }
  return { profile, settings: contents.settings, neighbourhoodName: n.name, createdAt: contents.createdAt, docs: contents.docs }
}
