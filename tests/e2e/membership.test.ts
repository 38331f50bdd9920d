import { describe, expect, it } from 'vitest'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp } from './browser.ts'

const world = e2eWorld()

describe('membership in Chromium', () => {
  it('a référent invites, a neighbour joins as new neighbour, the référent vouches for them', async () => {
    const a = await newDevice(world.browser)
    const karim = await openApp(a, world.relay.url)
    await createNeighbourhood(karim, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'Les Halles', me: 'Karim' })
    await expect.poll(() => karim.getByTestId('invite-terms').textContent()).toMatch(/pour 10 personne/)
    const link = await karim.getByLabel('Lien d’invitation').inputValue()

    const { device: b, page: lucie } = await joinFromLink(world.browser, link, 'Lucie')
    await lucie.getByRole('link', { name: 'Voisins' }).click()
    await lucie.getByRole('note').filter({ hasText: 'Vous êtes « nouveau voisin »' }).waitFor()
    // A new neighbour cannot invite: they are told who can.
    await lucie.getByRole('link', { name: 'Inviter' }).click()
    await lucie.getByText('Seuls les référents du quartier peuvent inviter').waitFor()
    await expect(lucie.getByRole('listitem').filter({ hasText: 'Karim' }).count()).resolves.toBe(1)

    await karim.getByRole('link', { name: 'Voisins' }).click()
    const welcome = karim.getByRole('region', { name: 'Nouveaux voisins à accueillir' })
    await welcome.getByRole('button', { name: 'Je connais Lucie' }).click()
    await karim.getByRole('region', { name: /^Membres/ }).getByText('Lucie').waitFor()
    await expect(karim.getByRole('region', { name: 'Nouveaux voisins à accueillir' }).count()).resolves.toBe(0)

    // Lucie's device learns it through the relay.
    await lucie.getByRole('link', { name: 'Voisins' }).click()
    await lucie.getByRole('region', { name: /^Membres \(2\)/ }).waitFor()
    await expect(lucie.getByRole('note').count()).resolves.toBe(0)
    await a.close()
    await b.close()
  })

  it('says plainly when an invitation link is damaged', async () => {
    const c = await newDevice(world.browser)
    const page = await openApp(c, `${world.relay.url}/join/2VqxRMeaSnHUVbLaX2bC7ZS6kD7e#i=abimé`)
    await page.getByRole('alert').filter({ hasText: 'Ce lien d’invitation est abîmé' }).waitFor()
    await c.close()
  })
})
