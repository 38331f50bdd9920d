import { describe, expect, it } from 'vitest'
import { boardTitles, createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

const world = e2eWorld()

describe('journeys in Chromium', () => {
  it('first run: installable, creates a neighbourhood offline by postcode once the communes list came once, shows an invitation QR code', async () => {
    const device = await newDevice(world.browser)
    const page = await openApp(device, world.relay.url)
    // Installable: the manifest is linked and served.
    const manifest = await page.evaluate(async () => {
      const href = document.querySelector('link[rel="manifest"]')?.getAttribute('href')
      return href ? (await fetch(href)).json() : undefined
    })
    expect(manifest).toMatchObject({ short_name: 'Placette', display: 'standalone', start_url: '/' })
    // What Chrome checks before it offers "Install app" / "Add to home screen" (a test context is
    // incognito-like, which is the one objection left and not the app's).
    const cdp = await device.newCDPSession(page)
    const installErrors = async () =>
      (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')
    await expect.poll(installErrors).toEqual([])

    await device.setOffline(true)
    await page.reload()
    await expect.poll(() => page.getByTestId('connection').textContent()).toMatch(/^Hors ligne/)
    // The communes list is not precached (a joiner never needs it): offline on a fresh install the
    // page says plainly that it needs a connection once, and loads it as soon as the device is online.
    await page.getByRole('link', { name: 'Créer le tableau de mon quartier' }).click()
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'liste des communes' }).count()).toBe(1)
    await device.setOffline(false)
    await page.getByLabel('Commune').fill('01400')
    await page.getByRole('button', { name: /Châtillon-sur-Chalaronne/ }).first().waitFor()
    // From then on it works offline, after a reload too.
    await device.setOffline(true)
    await page.goto(world.relay.url)
    await expect.poll(() => page.getByTestId('connection').textContent()).toMatch(/^Hors ligne/)
    await createNeighbourhood(page, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'Le Bourg', me: 'Jeanne' })
    await expect(page.getByRole('img', { name: 'Code QR d’invitation' }).locator('svg').count()).resolves.toBe(1)
    const link = await page.getByLabel('Lien d’invitation').inputValue()
    // A signed invitation, in the fragment (never sent to a server).
    expect(link).toMatch(new RegExp(`^${world.relay.url}/join/\\w+#i=[\\w-]+\\.[\\w-]+$`))
    await expect.poll(() => page.getByTestId('pending').textContent()).toMatch(/modifications? pas encore envoyées?/)
    await device.close()
  })

  it('two devices see each other’s posts through the relay', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'La Place', me: 'Jeanne' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    await post(pageA, { title: 'Conduire au marché samedi', body: 'Départ 9 h' })

    const b = await newDevice(world.browser)
    const pageB = await openApp(b, link)
    await pageB.getByText('Vous êtes invité à rejoindre La Place').waitFor()
    await pageB.getByLabel('Votre prénom ou votre nom').fill('Karim')
    await pageB.getByRole('button', { name: 'Rejoindre le quartier' }).click()
    await pageB.getByRole('article', { name: 'Conduire au marché samedi' }).waitFor()
    await expect(pageB.getByRole('article', { name: 'Conduire au marché samedi' }).textContent()).resolves.toContain('par Jeanne')
    // Karim's phone has the board as the relay has it on disk: it says when it last synced, not "never".
    await expect.poll(() => pageB.getByTestId('last-sync').textContent()).toMatch(/^Dernière synchronisation/)

    await post(pageB, { kind: 'offer', title: 'Je prête ma perceuse' })
    await pageA.getByRole('link', { name: 'Le tableau' }).click()
    await pageA.getByRole('article', { name: 'Je prête ma perceuse' }).waitFor()
    await expect(pageA.getByRole('article', { name: 'Je prête ma perceuse' }).textContent()).resolves.toContain('par Karim')
    await a.close()
    await b.close()
  })

  it('keeps an offline post after an offline reload and syncs it when the network returns', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'Les Vignes', me: 'Marie' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Paul')
    await pageB.getByRole('heading', { name: 'Le tableau de Les Vignes' }).waitFor()
    await expect.poll(() => pageA.getByTestId('pending').textContent()).toBe('Tout est synchronisé')

    await a.setOffline(true)
    await post(pageA, { title: 'Besoin de pain frais' })
    const card = pageA.getByRole('article', { name: 'Besoin de pain frais' })
    await expect(card.textContent()).resolves.toContain('Pas encore envoyé')
    await pageA.reload()
    await card.waitFor()
    await expect(card.textContent()).resolves.toContain('Pas encore envoyé')
    await expect.poll(() => pageA.getByTestId('pending').textContent()).toMatch(/pas encore envoyée?s?/)
    expect(await boardTitles(pageB)).not.toContain('Besoin de pain frais')

    await a.setOffline(false)
    await pageB.getByRole('article', { name: 'Besoin de pain frais' }).waitFor()
    await expect.poll(() => card.textContent()).not.toContain('Pas encore envoyé')
    await expect.poll(() => pageA.getByTestId('pending').textContent()).toBe('Tout est synchronisé')
    await a.close()
    await b.close()
  })

  it('speaks English when chosen, and remembers it', async () => {
    const device = await newDevice(world.browser)
    const page = await openApp(device, world.relay.url)
    await createNeighbourhood(page, { postcode: '01400', commune: /Condeissiat/, name: 'Le Pré', me: 'Ana' })
    await page.getByRole('link', { name: 'Réglages' }).click()
    await page.getByRole('radio', { name: 'English' }).check()
    await page.getByRole('heading', { name: 'Settings' }).waitFor()
    await page.reload()
    await page.getByRole('link', { name: 'Board' }).click()
    await page.getByRole('heading', { name: 'Le Pré board' }).waitFor()
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en')
    await device.close()
  })
})
