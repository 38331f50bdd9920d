import { defineConfig } from 'vitest/config'
import solid from 'vite-plugin-solid'

// Three projects: vite-plugin-solid adds the `browser` condition to every file it sees, which would make
// `ws` resolve to its browser stub, so Node tests and Solid component tests never share a project.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['shared/**/*.test.ts', 'sync-server/**/*.test.ts', 'client/{db,sync,stores}/**/*.test.ts', 'scripts/**/*.test.ts'],
        },
      },
      {
        plugins: [solid()],
        test: {
          name: 'ui',
          environment: 'happy-dom',
          include: ['client/**/*.test.tsx'],
        },
      },
      {
        test: {
          name: 'integration',
          environment: 'node',
          // tests/sim: the seeded convergence simulation (in-memory links, fake time).
          include: ['tests/integration/**/*.test.ts', 'tests/sim/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
