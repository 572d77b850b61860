import { defineConfig } from 'vitest/config';

/**
 * Reliability tests (`npm run test:reliability`): crash points, at-least-once delivery and
 * disorder at volume, injected faults, security. Real moto and the Stripe simulator; one file
 * at a time (each starts its own moto), generous timeouts. Part of `npm test`, after the fast and e2e suites.
 */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
