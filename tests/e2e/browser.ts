import { afterAll, afterEach, beforeAll } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { startRelay, type StartRelayOptions, type TestRelay } from '../helpers/relay.ts'

/**
 * Debian's Chromium, driven by playwright-core (Playwright cannot download its own browsers here).
 * The flags keep Chromium from calling home, which this machine's closed network would refuse.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Host candidates as plain addresses: headless Chromium here cannot resolve its own mDNS names,
      // which phones on a real Wi-Fi do.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  })
}

/** A fresh device: its own storage, French by default like most of our users. */
export function newDevice(browser: Browser, locale = 'fr-FR'): Promise<BrowserContext> {
  return browser.newContext({ locale, viewport: { width: 430, height: 900 } })
}

/** Opens the app and waits until its service worker controls the page (needed before going offline). */
export async function openApp(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (e) => console.error('[page error]', e.message))
  const lines: string[] = []
  page.on('console', (m) => {
    lines.push(`${new Date().toISOString()} ${m.type()} ${m.text()}`)
    if (lines.length > 200) lines.shift()
  })
  opened.push({ page, lines })
  await page.goto(url)
  await page.waitForFunction(() => !!navigator.serviceWorker?.controller, undefined, { timeout: 90_000 })
  return page
}

/** The pages opened in the current test, with their last console lines: printed if the test fails. */
const opened: { page: Page; lines: string[] }[] = []

/**
 * What a failed journey prints, so that a failure seen only in CI can be understood from its log: the
 * relay's warnings and its last lines, and per page its URL, what its connection line says and its
 * last console lines.
 */
async function printFailure(relay: TestRelay | undefined): Promise<void> {
  const out: string[] = ['--- e2e failure: what the relay and the pages said ---']
  if (relay) {
    const notable = relay.logs.filter((l) => l.level === 'warn' || l.level === 'error')
    out.push(`relay warnings and errors (${notable.length}):`, ...notable.slice(-60).map((l) => JSON.stringify(l)))
    out.push('relay, last 80 lines:', ...relay.logs.slice(-80).map((l) => JSON.stringify(l)))
  }
  for (const [i, { page, lines }] of opened.entries()) {
    const connection = page.isClosed() ? '(closed)' : await page.getByTestId('connection').textContent({ timeout: 1_000 }).catch(() => '(no connection line)')
    out.push(`page ${i} ${page.isClosed() ? '' : page.url()} — connection: ${connection}`, ...lines.slice(-60))
  }
  console.error(out.join('\n'))
}

/** Creates a neighbourhood through the UI, as a first-time user would. */
export async function createNeighbourhood(page: Page, opts: { postcode: string; commune: RegExp; name: string; me: string }): Promise<void> {
  await page.getByRole('link', { name: 'Créer le tableau de mon quartier' }).click()
  await page.getByLabel('Commune').fill(opts.postcode)
  await page.getByRole('button', { name: opts.commune }).first().click()
  await page.getByLabel('Nom du quartier').fill(opts.name)
  await page.getByLabel('Votre prénom ou votre nom').fill(opts.me)
  await page.getByRole('button', { name: 'Créer le quartier' }).click()
  await page.getByRole('heading', { name: 'Inviter un voisin' }).waitFor()
  // The creator is the first référent: make an invitation for the journeys' neighbours.
  await page.getByRole('radio', { name: '10 personnes' }).check()
  await page.getByRole('button', { name: 'Créer l’invitation' }).click()
  await page.getByLabel('Lien d’invitation').waitFor()
}

/** Posts through the form; returns when the board shows it. */
export async function post(page: Page, opts: { kind?: 'request' | 'offer'; category?: string; title: string; body?: string }): Promise<void> {
  await page.getByRole('link', { name: 'Publier', exact: true }).click()
  await page.getByRole('radio', { name: opts.kind === 'offer' ? 'propose mon aide' : 'demande de l’aide' }).check()
  await page.getByLabel('Catégorie').selectOption({ label: opts.category ?? 'Transport' })
  await page.getByLabel('Titre').fill(opts.title)
  if (opts.body) await page.getByLabel('Détails (facultatif)').fill(opts.body)
  await page.getByRole('button', { name: 'Publier', exact: true }).click()
  await page.getByRole('article', { name: opts.title }).waitFor()
}

export const boardTitles = (page: Page) => page.getByRole('list', { name: 'Annonces' }).getByRole('heading').allTextContents()

/**
 * The world every journey file needs: a relay serving the built app on a free port, and Chromium.
 * Registers its own setup and teardown; read `world.relay` and `world.browser` inside tests.
 */
export function e2eWorld(options: Pick<StartRelayOptions, 'admission'> = {}): { readonly relay: TestRelay; readonly browser: Browser } {
  let relay: TestRelay | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    relay = await startRelay({ staticDir: 'dist', ...options })
    browser = await launchBrowser()
  })
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await printFailure(relay)
    opened.length = 0
  })
  afterAll(async () => {
    await browser?.close()
    await relay?.stop()
  })
  return {
    get relay() {
      if (!relay) throw new Error('e2eWorld: relay not started')
      return relay
    },
    get browser() {
      if (!browser) throw new Error('e2eWorld: browser not started')
      return browser
    },
  }
}

/** A new device opens an invitation link and joins as `name`; returns when it shows the board. */
export async function joinFromLink(browser: Browser, link: string, name: string): Promise<{ device: BrowserContext; page: Page }> {
  const device = await newDevice(browser)
  const page = await openApp(device, link)
  await page.getByLabel('Votre prénom ou votre nom').fill(name)
  await page.getByRole('button', { name: 'Rejoindre le quartier' }).click()
  await page.getByRole('heading', { name: /^Le tableau de / }).waitFor()
  return { device, page }
}

/** A temporary folder for the files a journey downloads, made before the file's tests and removed after. */
export function downloadsDir(prefix: string): { readonly path: string } {
  let dir: string | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return {
    get path() {
      if (!dir) throw new Error('downloadsDir: not made yet')
      return dir
    },
  }
}

/** Saves the neighbourhood file on `page` ("Sans réseau") into `dir` and returns where it landed. */
export async function saveNeighbourhoodFile(page: Page, dir: string): Promise<string> {
  await page.getByRole('link', { name: 'Sans réseau' }).click()
  const download = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Créer le fichier du quartier' }).click()
  const file = await download
  if (!/^placette-.*\.placette$/.test(file.suggestedFilename())) throw new Error(`unexpected file name ${file.suggestedFilename()}`)
  const path = join(dir, `${Date.now()}-${file.suggestedFilename()}`)
  await file.saveAs(path)
  await page.getByText(/^Fichier prêt/).waitFor()
  return path
}
