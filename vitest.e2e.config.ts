import { defineConfig } from 'vitest/config';

/** End-to-end tests (`npm run test:e2e`, part of `npm test`): the whole sandbox over HTTP and in Chromium. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
