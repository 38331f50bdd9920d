import { describe, expect, it } from 'vitest'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

/** Every byte of every file under `dir`. */
async function readEverything(dir: string): Promise<Buffer> {
  const parts: Buffer[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    // A temporary file may be renamed away while we read: the final one is read instead.
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name)).catch(() => Buffer.alloc(0)))
  }
  return Buffer.concat(parts)
}

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
    await karim.getByRole('region', { name: /^Membres/ }).getByText('Lucie', { exact: true }).waitFor()
    await expect(karim.getByRole('region', { name: 'Nouveaux voisins à accueillir' }).count()).resolves.toBe(0)

    // Lucie's device learns it through the relay.
    await lucie.getByRole('link', { name: 'Voisins' }).click()
    await lucie.getByRole('region', { name: /^Membres \(2\)/ }).waitFor()
    await expect(lucie.getByRole('note').count()).resolves.toBe(0)

    // Karim names Lucie référent: she can invite in turn.
    await karim.getByRole('button', { name: 'Nommer Lucie référent' }).click()
    await karim.getByRole('button', { name: 'Oui, confirmer' }).click()
    await lucie.getByRole('link', { name: 'Inviter' }).click()
    await lucie.getByRole('button', { name: 'Créer l’invitation' }).waitFor()
    await lucie.getByRole('link', { name: 'Voisins' }).click()

    // A private message: readable by the two of them, ciphertext for the relay (a canary shows it).
    const canary = `canari-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
    await lucie.getByRole('link', { name: 'Écrire à Karim' }).click()
    await lucie.getByLabel('Écrire à Karim').fill(`Bonjour Karim, ${canary}`)
    await lucie.getByRole('button', { name: 'Envoyer' }).click()
    await lucie.getByRole('list', { name: 'Messages' }).getByText(canary).waitFor()

    await karim.getByRole('link', { name: 'Voisins' }).click()
    await karim.getByRole('link', { name: 'Écrire à Lucie' }).click()
    await karim.getByRole('list', { name: 'Messages' }).getByText(`Bonjour Karim, ${canary}`).waitFor()
    await karim.getByLabel('Écrire à Lucie').fill('Bonjour Lucie, bienvenue !')
    await karim.getByRole('button', { name: 'Envoyer' }).click()
    await lucie.getByRole('list', { name: 'Messages' }).getByText('Bonjour Lucie, bienvenue !').waitFor()

    // The relay stored the conversation, and nowhere in its folder or logs is the text.
    await a.close()
    await b.close()
    const stored = await readEverything(world.relay.dataDir)
    expect(stored.length).toBeGreaterThan(0)
    expect(stored.includes(Buffer.from(canary))).toBe(false)
    expect(JSON.stringify(world.relay.logs)).not.toContain(canary)
  })

  it('says plainly when an invitation link is damaged', async () => {
    const c = await newDevice(world.browser)
    const page = await openApp(c, `${world.relay.url}/join/2VqxRMeaSnHUVbLaX2bC7ZS6kD7e#i=abimé`)
    await page.getByRole('alert').filter({ hasText: 'Ce lien d’invitation est abîmé' }).waitFor()
    await c.close()
  })
})

describe('one person, two devices', () => {
  it('links a tablet to the same member by the code, and both post as them', async () => {
    const a = await newDevice(world.browser)
    const phone = await openApp(a, world.relay.url)
    await createNeighbourhood(phone, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'Le Lavoir', me: 'Denise' })
    await phone.getByRole('link', { name: 'Réglages' }).click()
    await phone.getByRole('link', { name: 'Montrer le code pour mon autre appareil' }).click()
    await phone.getByRole('button', { name: 'Montrer le code pour mon autre appareil' }).click()
    await phone.getByRole('img', { name: 'Code QR pour relier un autre appareil' }).waitFor()
    const link = await phone.getByLabel('Le même code, en lien').inputValue()

    const b = await newDevice(world.browser)
    const tablet = await openApp(b, link)
    await tablet.getByRole('button', { name: 'Relier cet appareil' }).click()
    await tablet.getByRole('heading', { name: 'Le tableau de Le Lavoir' }).waitFor()
    await post(tablet, { title: 'Qui va au marché samedi ?' })
    await phone.getByRole('link', { name: 'Le tableau' }).click()
    const article = phone.getByRole('article', { name: 'Qui va au marché samedi ?' })
    await article.waitFor()
    await expect(article.textContent()).resolves.toContain('Denise')
    await a.close()
    await b.close()
  })
})

describe('leaving', () => {
  it('erases what a departing neighbour wrote, on the relay and on the other devices', async () => {
    const a = await newDevice(world.browser)
    const karim = await openApp(a, world.relay.url)
    await createNeighbourhood(karim, { postcode: '01400', commune: /Châtillon-sur-Chalaronne/, name: 'La Fontaine', me: 'Karim' })
    const link = await karim.getByLabel('Lien d’invitation').inputValue()
    const { device: b, page: lucie } = await joinFromLink(world.browser, link, 'Lucie')
    await post(lucie, { kind: 'offer', title: 'Tondeuse à prêter', category: 'Jardinage' })
    await karim.getByRole('link', { name: 'Le tableau' }).click()
    await karim.getByRole('article', { name: 'Tondeuse à prêter' }).waitFor()

    await lucie.getByRole('link', { name: 'Réglages' }).click()
    await lucie.getByRole('button', { name: 'Quitter le quartier…' }).click()
    await lucie.getByRole('button', { name: 'Oui, quitter et effacer' }).click()
    await lucie.getByRole('link', { name: 'Créer le tableau de mon quartier' }).waitFor()

    await karim.getByRole('article', { name: 'Tondeuse à prêter' }).waitFor({ state: 'detached' })
    expect(world.relay.logs.some((l) => l.msg === 'feed of a departed member erased')).toBe(true)
    await a.close()
    await b.close()
  })
})
