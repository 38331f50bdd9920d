import { describe, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { createNeighbourhood, downloadsDir, e2eWorld, joinFromLink, newDevice, openApp, post, saveNeighbourhoodFile } from './browser.ts'

const world = e2eWorld()
const downloads = downloadsDir('placette-files-')
const saveFile = (page: Page) => saveNeighbourhoodFile(page, downloads.path)

async function openFile(page: Page, path: string): Promise<void> {
  await page.getByRole('link', { name: 'Sans réseau' }).click()
  await page.getByLabel('Choisir le fichier reçu').setInputFiles(path)
}

describe('sync by file, with no network at all', () => {
  it('carries posts both ways between two offline devices, and lets a third join from the file', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'Les Granges', me: 'Odile' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Yves')
    await pageB.getByRole('heading', { name: 'Le tableau de Les Granges' }).waitFor()
    const c = await newDevice(world.browser)
    const pageC = await openApp(c, world.relay.url) // the app is installed, then the network goes

    // The village loses its connection.
    for (const device of [a, b, c]) await device.setOffline(true)
    await post(pageA, { kind: 'offer', title: 'Bois de chauffage à donner', category: 'Autre' })
    const fromA = await saveFile(pageA)

    await openFile(pageB, fromA)
    await pageB.getByText(/^Fichier ouvert/).waitFor()
    await pageB.getByText('Fichier reçu ouvert : à l’instant').waitFor()
    await pageB.getByRole('link', { name: 'Le tableau' }).click()
    await pageB.getByRole('article', { name: 'Bois de chauffage à donner' }).waitFor()

    await post(pageB, { title: 'Qui a une remorque ?', category: 'Bricolage' })
    await openFile(pageA, await saveFile(pageB))
    await pageA.getByText(/^Fichier ouvert/).waitFor()
    await pageA.getByRole('link', { name: 'Le tableau' }).click()
    await pageA.getByRole('article', { name: 'Qui a une remorque ?' }).waitFor()

    // A third device, never a member, joins from the file alone.
    await pageC.getByRole('link', { name: /Ouvrir le fichier du quartier/ }).click()
    await pageC.getByLabel('Choisir le fichier reçu').setInputFiles(fromA)
    await pageC.getByText('Vous êtes invité à rejoindre Les Granges').waitFor()
    await pageC.getByLabel('Votre prénom ou votre nom').fill('Rose')
    await pageC.getByRole('button', { name: 'Rejoindre le quartier' }).click()
    await pageC.getByRole('article', { name: 'Bois de chauffage à donner' }).waitFor()

    // When the network returns, everything reaches everyone through the relay.
    for (const device of [a, b, c]) await device.setOffline(false)
    await pageC.getByRole('article', { name: 'Qui a une remorque ?' }).waitFor()
    for (const device of [a, b, c]) await device.close()
  })

  it('refuses a file that is not ours, or damaged, and changes nothing', async () => {
    const a = await newDevice(world.browser)
    const page = await openApp(a, world.relay.url)
    await createNeighbourhood(page, { postcode: '01400', commune: /Condeissiat/, name: 'Le Moulin', me: 'Luc' })
    await post(page, { title: 'Arroser mes tomates', category: 'Jardinage' })
    const good = await saveFile(page)
    const text = join(downloads.path, 'notes.placette')
    await writeFile(text, 'liste de courses : pain, lait')
    const { readFile } = await import('node:fs/promises')
    const truncated = join(downloads.path, 'truncated.placette')
    const bytes = await readFile(good)
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.byteLength / 2)))

    await openFile(page, text)
    await page.getByRole('alert').getByText('Ce fichier n’est pas un fichier Placette.').waitFor()
    await page.getByLabel('Choisir le fichier reçu').setInputFiles(truncated)
    await page.getByRole('alert').getByText('Ce fichier est abîmé ou incomplet. Rien n’a été changé.').waitFor()
    await page.getByRole('link', { name: 'Le tableau' }).click()
    await page.getByRole('article', { name: 'Arroser mes tomates' }).waitFor()
    await a.close()
  })
})
