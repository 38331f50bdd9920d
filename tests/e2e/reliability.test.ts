import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

const world = e2eWorld()
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'placette-backup-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Settings → "Sauvegarder mon profil"; returns where the download landed. */
async function backUp(page: Page): Promise<string> {
  await page.getByRole('link', { name: 'Réglages' }).click()
  await page.getByText('Toute personne qui l’a peut agir en votre nom').waitFor()
  const download = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Sauvegarder mon profil' }).click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/^placette-sauvegarde-.*\.placette-profil$/)
  const path = join(dir, `${Date.now()}-${file.suggestedFilename()}`)
  await file.saveAs(path)
  await page.getByRole('status').getByText(/^Sauvegarde prête/).waitFor()
  return path
}

/** A device that has the app (its service worker) and then no network at all. */
async function offlineDevice(): Promise<{ device: BrowserContext; page: Page }> {
  const device = await newDevice(world.browser)
  const page = await openApp(device, world.relay.url)
  await device.setOffline(true)
  return { device, page }
}

describe('profile backup', () => {
  it('restores the same member on a new device with no network: the board, the name, and posting as before', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'Les Tilleuls', me: 'Odile' })
    await post(pageA, { title: 'Tondre la pelouse', category: 'Jardinage' })
    const backup = await backUp(pageA)

    const { device: b, page: pageB } = await offlineDevice()
    await pageB.getByRole('link', { name: /sauvegarde de votre profil/ }).click()
    await pageB.getByLabel('Choisir le fichier de sauvegarde').setInputFiles(backup)
    await pageB.getByRole('status').getByText('Profil restauré : vous êtes Odile, dans Les Tilleuls.').waitFor()
    await pageB.getByRole('link', { name: 'Aller au tableau' }).click()
    await pageB.getByRole('heading', { name: 'Le tableau de Les Tilleuls' }).waitFor()
    await pageB.getByRole('article', { name: 'Tondre la pelouse' }).waitFor()
    await pageB.getByRole('link', { name: 'Réglages' }).click()
    await pageB.getByText('Vous êtes Odile, dans Les Tilleuls.').waitFor()

    // Posting as before, as the same member: the first device sees it under Odile's name.
    await post(pageB, { title: 'Écrit depuis le nouvel appareil', category: 'Autre' })
    await b.setOffline(false)
    await pageA.getByRole('link', { name: 'Le tableau' }).click()
    const article = pageA.getByRole('article', { name: 'Écrit depuis le nouvel appareil' })
    await article.waitFor({ timeout: 30_000 })
    expect(await article.textContent()).toContain('Odile')
    await a.close()
    await b.close()
  })

  it('refuses a neighbourhood file, a damaged backup or any other file, and changes nothing', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'Le Lavoir', me: 'Marc' })
    const backup = await backUp(pageA)
    await pageA.getByRole('link', { name: 'Sans réseau' }).click()
    const download = pageA.waitForEvent('download')
    await pageA.getByRole('button', { name: 'Créer le fichier du quartier' }).click()
    const syncFile = join(dir, 'quartier.placette')
    await (await download).saveAs(syncFile)
    const truncated = join(dir, 'truncated.placette-profil')
    const bytes = await readFile(backup)
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.byteLength / 2)))
    const text = join(dir, 'notes.placette-profil')
    await writeFile(text, 'liste de courses')

    const { device: b, page } = await offlineDevice()
    await page.getByRole('link', { name: /sauvegarde de votre profil/ }).click()
    const input = page.getByLabel('Choisir le fichier de sauvegarde')
    await input.setInputFiles(syncFile)
    await page.getByRole('alert').getByText('Ce fichier n’est pas une sauvegarde de profil Placette. Rien n’a été changé.').waitFor()
    await input.setInputFiles(truncated)
    await page.getByRole('alert').getByText('Ce fichier est abîmé ou incomplet. Rien n’a été changé.').waitFor()
    await input.setInputFiles(text)
    await page.getByRole('alert').getByText('Ce fichier n’est pas une sauvegarde de profil Placette. Rien n’a été changé.').waitFor()
    // Nothing changed: still no profile on this device.
    await page.goto(world.relay.url)
    await page.getByRole('heading', { name: 'Bienvenue sur Placette' }).waitFor()

    // And a backup is not opened at the neighbourhood-file door.
    await pageA.getByLabel('Choisir le fichier reçu').setInputFiles(backup)
    await pageA.getByRole('alert').getByText(/Ce fichier est une sauvegarde de profil/).waitFor()
    await a.close()
    await b.close()
  })
})

describe('a device that cannot save', () => {
  it('says so plainly, keeps the post and sends it, and writes it once there is room', async () => {
    const a = await newDevice(world.browser)
    // Chromium here ignores CDP's Storage.overrideQuotaForOrigin, so the disk "fills" the way a full
    // one answers: IndexedDB's writes throw QuotaExceededError while `__full` is set.
    await a.addInitScript(() => {
      const w = window as unknown as { __full?: boolean }
      for (const method of ['put', 'add'] as const) {
        const original = IDBObjectStore.prototype[method]
        IDBObjectStore.prototype[method] = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
          if (w.__full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
          return original.apply(this, args)
        }
      }
    })
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'La Fontaine', me: 'Jeanne' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Paul')

    await pageA.evaluate(() => ((window as unknown as { __full?: boolean }).__full = true))
    await pageA.getByRole('link', { name: 'Publier', exact: true }).click()
    await pageA.getByRole('radio', { name: 'demande de l’aide' }).check()
    await pageA.getByLabel('Catégorie').selectOption({ label: 'Courses' })
    await pageA.getByLabel('Titre').fill('Du pain pour samedi')
    await pageA.getByRole('button', { name: 'Publier', exact: true }).click()
    const banner = pageA.getByRole('alert').filter({ hasText: 'La mémoire de cet appareil est pleine' })
    await banner.waitFor()
    await banner.getByText(/Rien n’est perdu/).waitFor()

    // Sent all the same: the neighbour sees it while this device still cannot write.
    await pageB.getByRole('article', { name: 'Du pain pour samedi' }).waitFor({ timeout: 30_000 })

    await banner.getByRole('button', { name: 'Réessayer d’enregistrer' }).click()
    await banner.waitFor() // still full
    await pageA.evaluate(() => ((window as unknown as { __full?: boolean }).__full = false))
    await banner.getByRole('button', { name: 'Réessayer d’enregistrer' }).click()
    await banner.waitFor({ state: 'detached' })
    await pageA.getByRole('article', { name: 'Du pain pour samedi' }).waitFor()

    // Written for good: after a reload with no network, the post is still on this device.
    await a.setOffline(true)
    await pageA.reload()
    await pageA.getByRole('article', { name: 'Du pain pour samedi' }).waitFor()
    await a.close()
    await b.close()
  })
})
