import { describe, it } from 'vitest'
import { Admission, WINDOW } from '../../sync-server/admission.ts'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

// The relay's load, as its admission sees it: the test decides when it is saturated.
let utilization = 0
const admission = new Admission({ retryAfterSeconds: 2 }, () => utilization)
function saturate(value: number): void {
  utilization = value
  for (let i = 0; i < WINDOW; i++) admission.sample()
}
const world = e2eWorld({ admission })

describe('a saturated relay', () => {
  it('says so to a device it turns away, which keeps its post and sends it when the relay has room', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'Le Bourg', me: 'Jeanne' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Paul')

    saturate(0.97)
    // Paul's phone comes back to the app: a new connection, turned away.
    await pageB.reload()
    const status = pageB.getByRole('status').filter({ hasText: 'Le relais est saturé' })
    await status.getByText(/nouvel essai automatique à \d{1,2}:\d{2}/).waitFor()
    await pageB.getByText('Vous pouvez continuer : rien n’est perdu, tout sera envoyé quand il aura de la place.').waitFor()
    await post(pageB, { title: 'Qui a une échelle à prêter ?' })
    await pageB.getByRole('status').filter({ hasText: 'Ce sera envoyé aux voisins dès que le relais aura de la place.' }).waitFor()
    await pageB.getByTestId('pending').getByText(/pas encore envoyée/).waitFor()
    // Jeanne, already connected, is still served.
    await pageA.getByTestId('connection').getByText('En ligne').waitFor()

    saturate(0.2)
    await pageB.getByTestId('connection').getByText('En ligne').waitFor({ timeout: 15_000 })
    await pageA.getByRole('link', { name: 'Le tableau' }).click()
    await pageA.getByRole('article', { name: 'Qui a une échelle à prêter ?' }).waitFor({ timeout: 30_000 })
    await a.close()
    await b.close()
  })

  it('shows a newcomer the neighbourhood of their invitation once the relay lets them in, without a retry button', async () => {
    saturate(0.2)
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'Les Vignes', me: 'Louise' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()

    saturate(0.97)
    const b = await newDevice(world.browser)
    const pageB = await openApp(b, link)
    await pageB.getByRole('status').filter({ hasText: 'Le relais est saturé' }).waitFor()
    // The device gives up looking while it is turned away…
    await pageB.getByRole('alert').getByText('Ce quartier est introuvable pour l’instant', { exact: false }).waitFor({ timeout: 30_000 })
    saturate(0.2)
    // …and looks again by itself once the relay takes it.
    await pageB.getByLabel('Votre prénom ou votre nom').waitFor({ timeout: 30_000 })
    await pageB.getByText(/Les Vignes/).first().waitFor()
    await a.close()
    await b.close()
  })
})
