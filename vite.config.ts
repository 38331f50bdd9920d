import { defineConfig } from 'vite'
import solid from 'vite-plugin-solid'
import { VitePWA } from 'vite-plugin-pwa'
import { communesPlugin } from './scripts/communes.ts'
import { precompressPlugin } from './scripts/precompress.ts'

// The communes list, emitted by scripts/communes.ts as assets/communes-<hash>.txt.
const COMMUNES_GLOB = 'assets/communes-*.txt'
const COMMUNES_URL = /\/assets\/communes-[^/]*\.txt$/

// The PWA: Solid, the communes list as a virtual module, a service worker that precaches the whole app
// (Automerge's wasm included) so it opens and works offline from the second visit on, and brotli and
// gzip copies of every file for the relay to serve as they are (scripts/precompress.ts).
export default defineConfig({
  root: 'client',
  publicDir: '../public',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
  optimizeDeps: {
    // The dev server must not pre-bundle Automerge, or its wasm is not found.
    exclude: ['@automerge/automerge'],
  },
  server: {
    proxy: { '/sync': { target: 'ws://localhost:3000', ws: true }, '/auth': { target: 'http://localhost:3000' } },
  },
  plugins: [
    solid(),
    communesPlugin(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      manifest: {
        name: 'Placette — entraide entre voisins',
        short_name: 'Placette',
        description: 'L’entraide entre voisins, même sans réseau.',
        lang: 'fr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#fdf6e3',
        theme_color: '#1f5f4a',
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'maskable' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,mjs,css,html,wasm,svg,png,webmanifest,txt}'],
        // The communes list (a fifth of a first visit) is only for creating a neighbourhood: cached when
        // first fetched, never precached (client/stores/communes.ts).
        globIgnores: [COMMUNES_GLOB],
        runtimeCaching: [
          {
            urlPattern: COMMUNES_URL,
            // Hashed file name: a cached copy is always the right one; keep only the latest two.
            handler: 'CacheFirst',
            options: { cacheName: 'placette-communes', expiration: { maxEntries: 2 }, cacheableResponse: { statuses: [200] } },
          },
        ],
        // Automerge's wasm is 3.6 MB: above workbox's 2 MiB default, which would fail the build.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/sync/, /^\/healthz/, /^\/metrics/],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
    // Last: brotli and gzip copies of everything above, the service worker included.
    precompressPlugin(),
  ],
})
