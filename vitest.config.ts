import { defineConfig } from 'vitest/config';

// Temporal suites start real dev servers: run them in forked processes, one file at a time, with generous timeouts.
const temporalSuite = {
  pool: 'forks' as const,
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 180_000,
  setupFiles: ['test/helpers/setup-temporal.ts'],
};

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'workflows', include: ['test/workflows/**/*.test.ts'], ...temporalSuite } },
      { test: { name: 'replay', include: ['test/replay/**/*.test.ts'], ...temporalSuite } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...temporalSuite } },
    ],
  },
});
