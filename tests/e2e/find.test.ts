import { describe, expect, it } from 'vitest'
import type { Page } from 'playwright-core'
import { boardTitles, createNeighbourhood, e2eWorld, openApp } from './browser.ts'

const world = e2eWorld()

/**
 * Posts through the form, touching only what this test needs (the form has more fields than that).
 * `kind` is the radio's words ("prête un objet"); `here: true` uses the device's approximate position.
 */
async function publish(page: Page, opts: { kind: string; category: string; title: string; body?: string; themes?: string; here?: boolean }) {
  await page.getByRole('link', { name: 'Publier', exact: true }).click()
  await page.getByRole('radio', { name: opts.kind }).check()
  await page.getByLabel('Catégorie').selectOption({ label: opts.category })
  await page.getByLabel('Titre').fill(opts.title)
  if (opts.body) await page.getByLabel('Détails (facultatif)').fill(opts.body)
  if (opts.themes) await page.getByLabel('Thèmes (facultatif)').fill(opts.themes)
  if (opts.here) {
    await page.getByRole('button', { name: 'Utiliser ma position approximative' }).click()
    await page.getByText('Lieu approximatif enregistré.').waitFor()
  }
  await page.getByRole('button', { name: 'Publier', exact: true }).click()
  await page.getByRole('article', { name: opts.title }).waitFor()
}

const search = (page: Page, text: string) => page.getByRole('searchbox', { name: 'Rechercher' }).fill(text)
const results = (page: Page) => page.getByRole('status').filter({ hasText: /trouvée|correspond|Préparation/ }).textContent()

/** Opens "Trier et filtrer" if it is closed. */
async function openFilters(page: Page) {
  const kind = page.getByLabel('Type d’annonce')
  if (!(await kind.isVisible())) await page.getByText('Trier et filtrer').click()
  await kind.waitFor()
}

describe('finding things', () => {
  it('searches offline by a plural, a word of the text, a typo or a comment, and filters by kind and theme', async () => {
    const device = await world.browser.newContext({ locale: 'fr-FR', viewport: { width: 430, height: 900 } })
    const page = await openApp(device, world.relay.url)
    await createNeighbourhood(page, { postcode: '01400', commune: /Condeissiat/, name: 'Les Tilleuls', me: 'Karim' })
    await publish(page, { kind: 'prête un objet', category: 'Bricolage', title: 'Je prête ma perceuse', body: 'Perceuse à percussion, avec ses mèches pour le béton.' })
    await publish(page, { kind: 'demande de l’aide', category: 'Courses', title: 'Porter de l’eau à Mme Martin', body: 'Six packs, au deuxième étage.', themes: 'canicule' })
    await publish(page, { kind: 'propose mon aide', category: 'Jardinage', title: 'Aide au jardin', body: 'Je taille les haies.' })
    await publish(page, { kind: 'demande de l’aide', category: 'Transport', title: 'Conduire au marché samedi' })
    // A comment on the garden offer, to be found by its words.
    await page.getByRole('link', { name: 'Aide au jardin' }).click()
    await page.getByLabel('Votre commentaire').fill('J’apporte ma tondeuse si besoin')
    await page.getByRole('button', { name: 'Commenter' }).click()
    await page.getByText('J’apporte ma tondeuse si besoin').waitFor()

    // No network at all from here on: the app reloads from its service worker, search runs on the device.
    await device.setOffline(true)
    await page.reload()
    await page.getByRole('link', { name: 'Le tableau' }).click()
    await expect.poll(() => boardTitles(page)).toEqual(['Conduire au marché samedi', 'Aide au jardin', 'Porter de l’eau à Mme Martin', 'Je prête ma perceuse'])

    await search(page, 'perceuses')
    await expect.poll(() => boardTitles(page)).toEqual(['Je prête ma perceuse'])
    expect(await results(page)).toBe('1 annonce trouvée')
    await search(page, 'béton')
    await expect.poll(() => boardTitles(page)).toEqual(['Je prête ma perceuse'])
    await search(page, 'perseuse')
    await expect.poll(() => boardTitles(page)).toEqual(['Je prête ma perceuse'])
    await search(page, 'tondeuses')
    await expect.poll(() => boardTitles(page)).toEqual(['Aide au jardin'])
    await search(page, 'trampoline')
    await expect.poll(() => results(page)).toBe('Aucune annonce ne correspond à « trampoline ».')
    expect(await page.getByRole('list', { name: 'Annonces' }).count()).toBe(0)
    await page.getByRole('button', { name: 'Effacer la recherche' }).click()
    await expect.poll(() => boardTitles(page)).toHaveLength(4)

    // The index follows new posts (still offline).
    await publish(page, { kind: 'donne quelque chose', category: 'Bricolage', title: 'Je donne une vieille perceuse' })
    await search(page, 'perceuse')
    await expect.poll(() => boardTitles(page)).toEqual(['Je prête ma perceuse', 'Je donne une vieille perceuse'])
    await page.getByRole('button', { name: 'Effacer la recherche' }).click()

    // Filters: kind, then theme; they stay in the address bar, so "back" from a post keeps them.
    await openFilters(page)
    await page.getByLabel('Type d’annonce').selectOption({ label: 'Demande' })
    await expect.poll(() => boardTitles(page)).toEqual(['Conduire au marché samedi', 'Porter de l’eau à Mme Martin'])
    await page.getByLabel('Thème').selectOption({ label: 'canicule (1)' })
    await expect.poll(() => boardTitles(page)).toEqual(['Porter de l’eau à Mme Martin'])
    await page.getByRole('link', { name: 'Porter de l’eau à Mme Martin' }).click()
    await page.getByRole('heading', { name: 'Porter de l’eau à Mme Martin', level: 1 }).waitFor()
    await page.goBack()
    await expect.poll(() => boardTitles(page)).toEqual(['Porter de l’eau à Mme Martin'])
    expect(await page.getByLabel('Type d’annonce').inputValue()).toBe('request')

    // Search and filters together.
    await page.getByRole('button', { name: 'Effacer les filtres' }).click()
    await page.getByLabel('Type d’annonce').selectOption({ label: 'Offre' })
    await search(page, 'jardin')
    await expect.poll(() => boardTitles(page)).toEqual(['Aide au jardin'])
    await page.getByLabel('Type d’annonce').selectOption({ label: 'Prêt' })
    await expect.poll(() => results(page)).toBe('Aucune annonce ne correspond à « jardin ».')

    // Every open request in one place, counted.
    await page.getByRole('link', { name: 'Demandes d’aide' }).click()
    await page.getByRole('heading', { name: '2 demandes d’aide en attente', level: 1 }).waitFor()
    const needs = await page.getByRole('list', { name: 'Demandes d’aide' }).getByRole('heading').allTextContents()
    expect(needs).toEqual(['Conduire au marché samedi', 'Porter de l’eau à Mme Martin'])
    await device.close()
  })

  it('orders by distance when the person chooses "Près de moi", posts without a place last', async () => {
    // Two devices, each posting from where it is (a device reuses its last position fix for a while).
    const at = (where: { latitude: number; longitude: number }) =>
      world.browser.newContext({ locale: 'fr-FR', viewport: { width: 430, height: 900 }, permissions: ['geolocation'], geolocation: where })
    const hameau = await at({ latitude: 46.16, longitude: 4.9574 })
    const bourg = await at({ latitude: 46.1186, longitude: 4.9574 })
    const karim = await openApp(hameau, world.relay.url)
    await createNeighbourhood(karim, { postcode: '01400', commune: /Condeissiat/, name: 'Le Bourg', me: 'Karim' })
    const link = await karim.getByLabel('Lien d’invitation').inputValue()
    await publish(karim, { kind: 'propose mon aide', category: 'Compagnie et visites', title: 'Visite au hameau', here: true })
    const page = await openApp(bourg, link)
    await page.getByLabel('Votre prénom ou votre nom').fill('Ana')
    await page.getByRole('button', { name: 'Rejoindre le quartier' }).click()
    await page.getByRole('article', { name: 'Visite au hameau' }).waitFor()
    await publish(page, { kind: 'propose mon aide', category: 'Compagnie et visites', title: 'Visite au bourg', here: true })
    await publish(page, { kind: 'propose mon aide', category: 'Compagnie et visites', title: 'Visite sans lieu' })
    await expect.poll(() => boardTitles(page)).toEqual(['Visite sans lieu', 'Visite au bourg', 'Visite au hameau'])

    // Ana is at the bourg: nearest first.
    await openFilters(page)
    await page.getByRole('radio', { name: 'Près de moi' }).check()
    await expect.poll(() => boardTitles(page)).toEqual(['Visite au bourg', 'Visite au hameau', 'Visite sans lieu'])
    await page.getByText('Les plus proches d’abord.', { exact: false }).waitFor()
    const distances = await page.getByRole('list', { name: 'Annonces' }).locator('.distance').allTextContents()
    expect(distances[0]).toBe('Tout près')
    expect(distances[1]).toMatch(/^À environ 4,\d km$/)
    expect(distances[2]).toBe('Lieu non précisé')
    await hameau.close()
    await bourg.close()
  })
})
