// Lint, with the architecture's boundaries as rules (STYLE.md): components never reach storage, the
// repo or the map library; shared/ is a leaf that imports nothing from the apps or from a platform.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const storageAndSync = ['dexie', '@automerge/automerge-repo', '@automerge/automerge-repo/*', '@automerge/automerge-repo-*', 'maplibre-gl']

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'dev-dist/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'No export * barrels (STYLE.md).' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/client/**', '**/sync-server/**', '**/scripts/**'], message: 'shared/ is a leaf: it imports nothing from the apps.' },
            { group: ['solid-js', 'solid-js/*', 'ws', 'node:*', 'dexie', 'maplibre-gl'], message: 'shared/ stays free of DOM, Node, Dexie and Solid.' },
            {
              group: ['@automerge/automerge-repo', '@automerge/automerge-repo/*', '@automerge/automerge-repo-*'],
              allowTypeImports: true,
              message: 'shared/ may name the repo’s types, never load it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['client/**/*.{ts,tsx}'],
    ignores: ['client/stores/**', 'client/sync/**', 'client/db/**', 'client/map/**', 'client/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: storageAndSync, message: 'The UI never touches storage: go through client/stores.' },
            { group: ['**/sync-server/**', 'ws', 'node:*'], message: 'The client does not import the relay or Node.' },
          ],
        },
      ],
    },
  },
  {
    files: ['client/db/**/*.ts', 'client/sync/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['solid-js', 'solid-js/*', '**/views/**', '**/components/**'], message: 'db/ and sync/ know nothing of the UI.' }] }],
    },
  },
  {
    files: ['sync-server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/client/**', 'solid-js', 'dexie'], message: 'The relay does not import the client.' }] }],
    },
  },
)
