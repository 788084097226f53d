import { defineConfig } from 'vitest/config';

// Suites that start servers, stores or browsers run in forked processes, a few at a time,
// so the whole suite stays inside the 2-core budget.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'server/**/*.test.ts', 'shared/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
