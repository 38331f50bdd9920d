import type { PlacetteDb, Profile } from '../db/db.ts'
import type { Runtime } from '../sync/runtime.ts'
import { exportBackup, readBackup } from '../sync/backup.ts'
import { applySyncFile } from '../sync/syncfile.ts'
import { backupFileName } from '../../shared/backup.ts'
import { startProfile } from './commands.ts'

/**
 * "Sauvegarder mon profil" and "Restaurer": a profile's whole self in one file, and back. The file
 * holds the secret key, so it is only ever downloaded, never offered to the share sheet.
 */
export async function exportProfileBackup(rt: Runtime, db: PlacetteDb, profile: Profile): Promise<{ bytes: Uint8Array; name: string }> {
  const language = (await db.settings.get('language'))?.value
  const bytes = await exportBackup(rt.repo, profile, language === 'fr' || language === 'en' ? { language } : {})
  return { bytes, name: backupFileName(profile.displayName, Date.now()) }
}

export interface Restored {
  profile: Profile
  neighbourhoodName: string
  language: 'fr' | 'en' | undefined
}

/**
 * Checks the whole file first (a bad one changes nothing), then merges its documents, saves the
 * profile with its keys and makes it this device's current one.
 */
export async function restoreProfileBackup(rt: Runtime, db: PlacetteDb, bytes: Uint8Array): Promise<Restored> {
  const backup = await readBackup(bytes)
  await applySyncFile(rt.repo, backup)
  const existing = await db.profiles.get(backup.profile.id)
  const profile: Profile = { ...backup.profile, keys: backup.profile.keys ?? existing?.keys }
  if (backup.settings.language) await db.settings.put({ key: 'language', value: backup.settings.language })
  await startProfile(rt, db, profile)
  await rt.projector.settled()
  return { profile, neighbourhoodName: backup.neighbourhoodName, language: backup.settings.language }
}
