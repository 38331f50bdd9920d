/**
 * A Chromium device holding a generated board, filled through the app's own path: the board's
 * documents are put on the relay, a fresh Chromium profile joins the neighbourhood by its invitation
 * link, and the app syncs and projects every feed into its index. Used by the browser scenarios
 * (cold-start, search) that need a device with 10,000 posts stored.
 */
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchBrowser } from '../../tests/e2e/browser.ts'
import { boardOptions, buildAutomerge, generateBoard, idOf, type Board } from '../generate.ts'
import { ensureAppBuild, type AppBuild } from './app-build.ts'
import { cached } from './cache.ts'
import { startProxy, type Proxy } from './proxy.ts'
import { amDevice } from './devices.ts'
import type { RunContext } from './scenario.ts'
import { startServer, type ServerChild } from './server-process.ts'
import { sleep, waitUntil } from './wait.ts'

export interface FilledDevice {
  board: Board
  build: AppBuild
  server: ServerChild
  /** With `viaProxy`: the counting proxy the page and its sync go through (bench/lib/proxy.ts). */
  proxy?: Proxy
  browser: Browser
  context: BrowserContext
  page: Page
  /** Seconds from opening the invitation link to every post in the device's index. */
  fillSeconds: number
  /** Closes the browser and stops the relay. */
  close(): Promise<void>
}

/** Posts in the app's query index (Dexie database `placette-index`), read straight from IndexedDB. */
export function indexedPosts(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const open = indexedDB.open('placette-index')
        open.onerror = () => resolve(0)
        open.onsuccess = () => {
          const db = open.result
          if (!db.objectStoreNames.contains('posts')) {
            db.close()
            return resolve(0)
          }
          const count = db.transaction('posts', 'readonly').objectStore('posts').count()
          count.onsuccess = () => {
            resolve(count.result)
            db.close()
          }
          count.onerror = () => resolve(0)
        }
      }),
  )
}

/**
 * Builds (or reuses) the app, puts a board of `posts` posts on a fresh relay and fills a fresh
 * Chromium device with it; `initScript` runs in every page before the app's own scripts. The page is
 * left on the board, online, with the app done writing. `name` prefixes the progress lines. With
 * `viaProxy` the page is opened through a counting proxy in front of the relay, so that everything the
 * app sends and receives (its page, the sign-in challenge, its sync) crosses it.
 */
export async function fillDevice(ctx: RunContext, name: string, posts: number, initScript?: () => void, device: { viaProxy?: boolean } = {}): Promise<FilledDevice> {
  const build = await ensureAppBuild(ctx.root, ctx.log)
  const options = boardOptions(`catch-up-${posts}`, posts, ctx.quick ? { members: 20 } : {})
  const board = generateBoard(options)
  ctx.log(`${name}: building the ${posts}-post board (cached after the first time)`)
  const docs = cached('catch-up-automerge', options, () => buildAutomerge(board))
  const server = await startServer('placette', { staticDir: build.dir })
  const proxy = device.viaProxy ? await startProxy(server.port) : undefined
  const browser = await launchBrowser()
  const close = async () => {
    await browser.close()
    await proxy?.close()
    await server.stop()
  }
  try {
    ctx.log(`${name}: putting the board on the relay`)
    const seeder = amDevice('placette', server.wsUrl)
    const handles = seeder.importDocs(docs.full)
    await waitUntil(() => [...handles.values()].every((h) => seeder.serverHas(h)), 'the relay to hold the board', 300_000, 50)
    await seeder.close()
    // Taking 10,000 posts at once saturates the relay for a while, and a saturated relay turns the device
    // away for half a minute or more (sync-server/admission.ts): let it get its breath back first.
    await waitUntil(
      async () => !((await (await fetch(`${server.url}/healthz`)).json()) as { busy?: boolean }).busy,
      'the relay to have room again',
      300_000,
      500,
    )

    const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 430, height: 900 } })
    if (initScript) await context.addInitScript(initScript)
    const page = await context.newPage()
    page.on('pageerror', (e) => ctx.log(`${name}: page error: ${e.message}`))
    const fillStart = performance.now()
    ctx.log(`${name}: joining the neighbourhood in Chromium by its invitation link`)
    await page.goto(`${proxy ? proxy.url(server.url) : server.url}/join/${idOf(board.neighbourhoodUrl)}`)
    await page.waitForFunction(() => !!navigator.serviceWorker?.controller, undefined, { timeout: 60_000 })
    await page.getByLabel('Votre prénom ou votre nom').fill('Benchmark', { timeout: 120_000 })
    await page.getByRole('button', { name: 'Rejoindre le quartier' }).click()
    let lastLog = 0
    await waitUntil(
      async () => {
        const stored = await indexedPosts(page)
        if (performance.now() - lastLog > 15_000) {
          lastLog = performance.now()
          ctx.log(`${name}: ${stored} of ${posts} posts in the device's index`)
        }
        return stored >= posts
      },
      `the app to store ${posts} posts`,
      ctx.quick ? 120_000 : 1_200_000,
      500,
    )
    const fillSeconds = (performance.now() - fillStart) / 1000
    await page.locator('article').first().waitFor({ timeout: 120_000 })
    // Let the app finish writing (sync states, the projector) before the scenario goes on.
    await sleep(3000)
    return { board, build, server, ...(proxy ? { proxy } : {}), browser, context, page, fillSeconds, close }
  } catch (err) {
    // What the person would have seen: a screenshot and the page's text, for whoever reruns it.
    for (const page of browser.contexts().flatMap((c) => c.pages())) {
      const shot = join(ctx.root, '.tmp', `bench-${name}-failure.png`)
      await page.screenshot({ path: shot }).then(() => ctx.log(`${name}: the page at the failure: ${shot}`), () => undefined)
      const text = await page.locator('body').innerText({ timeout: 5000 }).catch(() => '')
      ctx.log(`${name}: the page said: ${text.replace(/\s+/g, ' ').slice(0, 600)}`)
    }
    await close()
    throw err
  }
}
