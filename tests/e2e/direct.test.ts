import { describe, it } from 'vitest'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

const world = e2eWorld()

describe('device to device', () => {
  it('two devices with no relay sync directly over WebRTC by exchanging codes', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'Le Marché', me: 'Nadia' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Paul')

    // The relay goes away (the line to the village is down); both devices keep their app.
    await world.relay.relay.close()
    await pageA.getByTestId('connection').getByText(/^Hors ligne/).waitFor()
    await post(pageA, { kind: 'offer', title: 'Œufs frais à donner', category: 'Autre' })
    await post(pageB, { title: 'Cherche un vélo pour enfant', category: 'Autre' })

    // Nadia shows her code; Paul answers; Nadia reads the answer.
    const openDirect = async (page: typeof pageA) => {
      await page.getByRole('link', { name: 'Sans réseau' }).click()
      await page.getByRole('link', { name: 'Ou connectez deux téléphones directement' }).click()
    }
    await openDirect(pageA)
    await pageA.getByRole('button', { name: 'Montrer mon code' }).click()
    const offer = await pageA.getByLabel('Le même code, en texte').inputValue()
    await openDirect(pageB)
    await pageB.getByLabel('Code de votre voisin').fill(offer)
    await pageB.getByRole('button', { name: 'Répondre' }).click()
    const answer = await pageB.getByLabel('Le même code, en texte').inputValue()
    await pageA.getByLabel('Code réponse de votre voisin').fill(answer)
    await pageA.getByRole('button', { name: 'Se connecter' }).click()
    await pageA.getByText('Connecté directement à l’autre téléphone. Les nouvelles passent.').waitFor()
    await pageB.getByText('Connecté directement à l’autre téléphone. Les nouvelles passent.').waitFor()

    await pageB.getByRole('link', { name: 'Le tableau' }).click()
    await pageB.getByRole('article', { name: 'Œufs frais à donner' }).waitFor()
    await pageA.getByRole('link', { name: 'Le tableau' }).click()
    await pageA.getByRole('article', { name: 'Cherche un vélo pour enfant' }).waitFor()
    await a.close()
    await b.close()
  })
})
