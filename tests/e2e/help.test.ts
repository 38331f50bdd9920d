import { describe, expect, it } from 'vitest'
import { createNeighbourhood, e2eWorld, joinFromLink, newDevice, openApp, post } from './browser.ts'

const world = e2eWorld()

describe('asking and helping', () => {
  it('a request posted offline syncs, a neighbour answers, the author accepts, marks it done and thanks', async () => {
    const newcomer = await newDevice(world.browser)
    const karim = await openApp(newcomer, world.relay.url)
    await createNeighbourhood(karim, { postcode: '01400', commune: /Condeissiat/, name: 'Le Hameau', me: 'Karim' })
    const link = await karim.getByLabel('Lien d’invitation').inputValue()

    const { device: neighbour, page: jeanne } = await joinFromLink(world.browser, link, 'Jeanne')
    await jeanne.getByRole('heading', { name: 'Le tableau de Le Hameau' }).waitFor()

    // Karim asks, offline.
    await newcomer.setOffline(true)
    await post(karim, { title: 'Conduire à la pharmacie mardi', body: 'Ordonnance à retirer avant midi', category: 'Transport' })
    await expect(karim.getByRole('article', { name: 'Conduire à la pharmacie mardi' }).textContent()).resolves.toContain('Pas encore envoyé')
    await newcomer.setOffline(false)

    // It reaches Jeanne, who offers to help.
    await jeanne.getByRole('link', { name: 'Conduire à la pharmacie mardi' }).click()
    await jeanne.getByRole('heading', { name: 'Conduire à la pharmacie mardi', level: 1 }).waitFor()
    await jeanne.getByLabel('Votre message (facultatif)').fill('Je vous emmène à 10 h')
    await jeanne.getByRole('button', { name: 'Je peux aider' }).click()
    await jeanne.getByText('Vous avez proposé votre aide.').waitFor()

    // Karim sees her answer and accepts it.
    await karim.getByRole('link', { name: 'Conduire à la pharmacie mardi' }).click()
    await karim.getByText('Je vous emmène à 10 h').waitFor()
    await karim.getByRole('button', { name: 'Accepter l’aide de Jeanne' }).click()
    await expect.poll(() => karim.getByTestId('post-status').textContent()).toBe('En cours')
    await jeanne.getByText('Vous avez été choisi pour aider. Merci !').waitFor()

    // Done, and thanks.
    await karim.getByRole('button', { name: 'C’est fait' }).click()
    await expect.poll(() => karim.getByTestId('post-status').textContent()).toBe('Terminée')
    await karim.getByLabel('Un mot de remerciement pour Jeanne (facultatif)').fill('Merci infiniment !')
    await karim.getByRole('button', { name: 'Remercier Jeanne' }).click()
    await karim.getByText('Karim a remercié Jeanne').waitFor()

    // Jeanne sees it all: closed, thanked, and can no longer answer.
    await expect.poll(() => jeanne.getByTestId('post-status').textContent()).toBe('Terminée')
    await jeanne.getByText('Karim a remercié Jeanne').waitFor()
    await jeanne.getByText('« Merci infiniment ! »').waitFor()
    await newcomer.close()
    await neighbour.close()
  })

  it('comments can be added, edited and deleted, and the deletion reaches the other device', async () => {
    const a = await newDevice(world.browser)
    const pageA = await openApp(a, world.relay.url)
    await createNeighbourhood(pageA, { postcode: '01400', commune: /Condeissiat/, name: 'La Fontaine', me: 'Lucie' })
    const link = await pageA.getByLabel('Lien d’invitation').inputValue()
    await post(pageA, { kind: 'offer', title: 'Je garde vos poules en août', category: 'Animaux' })

    const { device: b, page: pageB } = await joinFromLink(world.browser, link, 'Marc')
    await pageB.getByRole('link', { name: 'Je garde vos poules en août' }).click()
    await pageB.getByLabel('Votre commentaire').fill('Combien de poules au maximum ?')
    await pageB.getByRole('button', { name: 'Commenter' }).click()
    const comments = pageB.getByRole('list', { name: 'Commentaires' })
    await comments.getByText('Combien de poules au maximum ?').waitFor()
    await comments.getByRole('button', { name: 'Modifier' }).click()
    await comments.getByLabel('Votre commentaire').fill('Combien de poules, et des lapins ?')
    await comments.getByRole('button', { name: 'Enregistrer le commentaire' }).click()
    await comments.getByText('Combien de poules, et des lapins ?').waitFor()

    await pageA.getByRole('link', { name: 'Je garde vos poules en août' }).click()
    await pageA.getByText('Combien de poules, et des lapins ?').waitFor()

    pageB.once('dialog', (d) => void d.accept())
    await comments.getByRole('button', { name: 'Supprimer' }).click()
    await pageB.getByText('Pas encore de commentaire.').waitFor()
    await pageA.getByText('Pas encore de commentaire.').waitFor()
    await a.close()
    await b.close()
  })
})
