import { defineConfig } from 'vitest/config';

// One project over every package's test/ and the end-to-end test/ folder.
// `npm test` builds first (tsc -b), so tests that import packages by their
// public names run against the freshly built dist/. Slow suites (crash,
// load, fuzz) are named *.slow.test.ts and run with `npm run test:slow`.
const slow = process.env.OTEL_AUDIT_SLOW_TESTS === '1';

export default defineConfig({
  test: {
    include: slow
      ? ['packages/*/test/**/*.slow.test.ts', 'test/**/*.slow.test.ts']
      : ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: slow ? ['**/node_modules/**'] : ['**/node_modules/**', '**/*.slow.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
