import { describe, expect, it } from 'vitest'
import { backupFileName, checkBackupFile } from './backup.ts'
import { checkSyncFile } from './syncfile.ts'
import { generateMemberKeys, memberIdFor } from './identity.ts'
import { newMemberId, type DocUrl } from './ids.ts'

const n = 'automerge:2j9knpCseyhnK8izDmLpGP5WMdZQ' as DocUrl
const f = 'automerge:3Kx7pQm2vWnRt8yZcB4dHfJ6LsGa' as DocUrl
const keys = generateMemberKeys()
const file = (over: Record<string, unknown> = {}, profile: Record<string, unknown> = {}) => ({
  format: 'placette-backup',
  version: 1,
  createdAt: 1,
  profile: { id: memberIdFor(keys.publicKey), displayName: 'Odile', neighbourhood: n, feed: f, createdAt: 1, keys, ...profile },
  settings: { language: 'fr' },
  docs: [
    { url: n, data: new Uint8Array([1]) },
    { url: f, data: new Uint8Array([2]) },
  ],
  ...over,
})
const reason = (value: unknown) => {
  try {
    checkBackupFile(value)
    return 'accepted'
  } catch (e) {
    return (e as { reason?: string }).reason
  }
}

describe('backup file format', () => {
  it('accepts a whole backup, and one from before member keys existed', () => {
    expect(checkBackupFile(file()).profile.displayName).toBe('Odile')
    expect(reason(file({}, { id: newMemberId(), keys: undefined }))).toBe('accepted')
  })

  it('sends each kind of Placette file to its own door', () => {
    expect(reason(file({ format: 'placette-sync' }))).toBe('not-backup-file')
    expect(reason('a string')).toBe('not-backup-file')
    expect(() => checkSyncFile(file())).toThrow(expect.objectContaining({ reason: 'backup-file' }))
  })

  it('refuses a newer version, a bad profile, keys of the wrong size or of someone else, a missing feed', () => {
    expect(reason(file({ version: 2 }))).toBe('newer-file')
    expect(reason(file({ version: 0 }))).toBe('corrupt-file')
    expect(reason(file({}, { displayName: '  ' }))).toBe('corrupt-file')
    expect(reason(file({}, { keys: { publicKey: new Uint8Array(31), secretKey: keys.secretKey } }))).toBe('corrupt-file')
    expect(reason(file({}, { keys: generateMemberKeys() }))).toBe('corrupt-file')
    expect(reason(file({ docs: [{ url: n, data: new Uint8Array([1]) }] }))).toBe('corrupt-file')
    expect(reason(file({ settings: { language: 'de' } }))).toBe('corrupt-file')
  })

  it('names the file after the person, without accents', () => {
    expect(backupFileName('Hélène Dupré', Date.UTC(2026, 10, 22))).toBe('placette-sauvegarde-helene-dupre-2026-11-22.placette-profil')
  })
})
