import { describe, expect, it } from 'vitest'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as A from '@automerge/automerge'
import { packFile, readSyncFile, unpackFile } from '../../client/sync/syncfile.ts'
import { Reason } from '../../shared/errors.ts'
import type { SyncFileContents } from '../../shared/syncfile.ts'
import type { FeedDoc } from '../../shared/schema/feed.ts'
import type { PostId } from '../../shared/ids.ts'
import { immutable, storedPost } from '../../shared/schema/stored.ts'
import { createNeighbourhood, downloadsDir, e2eWorld, joinFromLink, newDevice, openApp, post, saveNeighbourhoodFile } from './browser.ts'

/**
 * A forged change to a member's feed reaches a neighbour's device through a sync file (DESIGN.md §4):
 * the neighbour sees the owner's last valid version and a warning, and the relay does not take it.
 */

const world = e2eWorld()
const downloads = downloadsDir('placette-signed-')

/** Someone edits Lucie's post in a copy of the file, without her key, and adds a post in her name. */
async function forgeFile(path: string, title: string): Promise<string> {
  const bytes = new Uint8Array(await readFile(path))
  const file = await readSyncFile(bytes)
  const contents = (await unpackFile(bytes, Reason.notSyncFile)) as SyncFileContents
  const docs = file.docs.map((d) => {
    const doc = A.load<FeedDoc>(d.data)
    const target = Object.values(doc.posts ?? {}).find((p) => String(p.title) === title)
    if (!target) return d
    // IDs are stored as immutable strings (shared/schema/stored.ts).
    const id = String(target.id) as PostId
    const forged = A.change(doc, (f) => {
      f.posts[id]!.title = immutable('Perceuse à vendre, 500 €')
      f.posts[`${id.slice(0, -1)}X` as PostId] = storedPost({ ...target, id: `${id.slice(0, -1)}X` as PostId, title: 'Envoyez-moi vos codes' })
    })
    return { url: d.url, data: A.save(forged) }
  })
  expect(docs.filter((d, i) => d !== file.docs[i])).toHaveLength(1)
  const out = join(downloads.path, `forged-${Date.now()}.placette`)
  await writeFile(out, await packFile({ ...contents, docs }))
  return out
}

describe('a change to a member’s feed that its owner did not sign', () => {
  it('shows the owner’s last valid version with a warning, and never reaches the relay', async () => {
    const a = await newDevice(world.browser)
    const lucie = await openApp(a, world.relay.url)
    await createNeighbourhood(lucie, { postcode: '01400', commune: /Condeissiat/, name: 'La Place', me: 'Lucie' })
    const link = await lucie.getByLabel('Lien d’invitation').inputValue()
    await post(lucie, { kind: 'offer', title: 'Perceuse à prêter', category: 'Bricolage' })
    const { device: b, page: marc } = await joinFromLink(world.browser, link, 'Marc')
    await marc.getByRole('article', { name: 'Perceuse à prêter' }).waitFor()
    expect(await marc.getByRole('note').count()).toBe(0)

    const forged = await forgeFile(await saveNeighbourhoodFile(marc, downloads.path), 'Perceuse à prêter')
    await marc.getByLabel('Choisir le fichier reçu').setInputFiles(forged)
    await marc.getByText(/^Fichier ouvert/).waitFor()
    await marc.getByRole('link', { name: 'Le tableau' }).click()

    const card = marc.getByRole('article', { name: 'Perceuse à prêter' })
    await card.getByRole('note').filter({ hasText: 'Certaines modifications de Lucie n’ont pas pu être vérifiées ; la dernière version sûre est affichée.' }).waitFor()
    expect(await marc.getByRole('article', { name: 'Perceuse à vendre, 500 €' }).count()).toBe(0)
    expect(await marc.getByRole('article', { name: 'Envoyez-moi vos codes' }).count()).toBe(0)
    // On her profile too.
    await marc.getByRole('link', { name: 'Voisins' }).click()
    await marc.getByRole('listitem').filter({ hasText: 'Lucie' }).getByRole('note').waitFor()

    // The relay refused the forged changes: Lucie's own device never sees them, nor a warning.
    await expect.poll(() => world.relay.logs.some((l) => String(l.detail).startsWith('not-signed'))).toBe(true)
    await post(lucie, { title: 'Qui va au marché samedi ?' })
    await marc.getByRole('link', { name: 'Le tableau' }).click()
    await marc.getByRole('article', { name: 'Qui va au marché samedi ?' }).waitFor()
    expect(await lucie.getByRole('article', { name: 'Perceuse à vendre, 500 €' }).count()).toBe(0)
    expect(await lucie.getByRole('note').count()).toBe(0)
    await a.close()
    await b.close()
  })
})
