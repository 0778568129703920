import { defineConfig } from 'vitest/config';

// One project over every package's test/ and the end-to-end test/ folder.
// `npm test` builds first (tsc -b), so tests that import packages by their
// public names run against the freshly built dist/.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
