import { describe, it } from 'vitest'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

const world = e2eWorld()

describe('device to device through the relay', () => {
  it('links two devices without codes while both reach the relay, and they keep syncing after it stops', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'La Place', me: 'Nadia' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Paul')

    // Nadia opens "device to device" and sees Paul among the neighbours connected now.
    await pageA.getByRole('link', { name: 'Sans réseau' }).click()
    await pageA.getByRole('link', { name: 'Ou connectez deux téléphones directement' }).click()
    const nearby = pageA.getByRole('list', { name: 'Voisins connectés en ce moment' })
    await nearby.getByText('Paul').waitFor({ timeout: 30_000 })
    await nearby.getByRole('button', { name: 'Se relier directement avec Paul' }).click()
    await pageA.getByText('Nous demandons à Paul d’accepter sur son téléphone…').waitFor()

    // Paul, on the board, is asked plainly and accepts.
    await pageB.getByRole('alert').getByText('Nadia voudrait relier son téléphone directement au vôtre.', { exact: false }).waitFor()
    await pageB.getByRole('button', { name: 'Accepter' }).click()
    await pageA.getByText('Relié directement à Paul.', { exact: false }).waitFor({ timeout: 30_000 })
    await pageB.getByRole('status').getByText('Relié directement à Nadia').waitFor()

    // The relay goes away; a post made on Nadia's phone still reaches Paul's.
    await world.relay.stop()
    await pageA.getByTestId('connection').getByText(/^(Hors ligne|Relais injoignable)/).waitFor({ timeout: 30_000 })
    await pageA.getByText('Relié directement à Paul.', { exact: false }).waitFor()
    await post(pageA, { kind: 'offer', title: 'Confiture de prunes à partager', category: 'Autre' })
    await pageB.getByRole('article', { name: 'Confiture de prunes à partager' }).waitFor({ timeout: 30_000 })
    await a.close()
    await b.close()
  })
})
