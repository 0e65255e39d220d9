import { defineConfig } from 'vitest/config';

// Temporal suites start real dev servers: run them in forked processes, one file at a time, with generous timeouts.
const temporalSuite = {
  pool: 'forks' as const,
  fileParallelism: false,
  testTimeout: 120_000,
  hookTimeout: 180_000,
  setupFiles: ['test/helpers/setup-temporal.ts'],
  // Once per run, before any file: the Temporal binaries, found or installed into the project's cache.
  globalSetup: ['test/helpers/globalSetup.temporal.ts'],
};

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'workflows', include: ['test/workflows/**/*.test.ts'], ...temporalSuite } },
      { test: { name: 'replay', include: ['test/replay/**/*.test.ts'], ...temporalSuite } },
      { test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...temporalSuite } },
      { test: { name: 'mcp', include: ['test/mcp/**/*.test.ts'], ...temporalSuite } },
      {
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          ...temporalSuite,
          globalSetup: [...temporalSuite.globalSetup, 'test/helpers/globalSetup.browser.ts'],
        },
      },
      { test: { name: 'audit', include: ['test/audit/**/*.test.ts'], ...temporalSuite } },
      // Governed tools of agent frameworks (adapters/), driven by each framework's own mock model against a real plane.
      { test: { name: 'adapters', include: ['test/adapters/**/*.test.ts'], ...temporalSuite } },
      // The integrity attacks (floods, forged packs, phantom listings) are sized to prove their bounds and run always.
      { test: { name: 'integrity', include: ['test/attacks/integrity/**/*.test.ts'], ...temporalSuite, testTimeout: 600_000 } },
      // The production shape: the workflow suite's core paths and the cluster faults on a real multi-process Temporal
      // cluster on PostgreSQL (one per file). Only with ECP_CLUSTER_SUITE=1 (npm run test:cluster, the last step of
      // npm test): its globalSetup builds the Temporal server with Go once, which `vitest run` alone must not do.
      ...(process.env.ECP_CLUSTER_SUITE
        ? [
            {
              test: {
                name: 'cluster',
                include: ['test/workflows/paths.test.ts', 'test/workflows/durability.test.ts', 'test/cluster/**/*.test.ts'],
                ...temporalSuite,
                setupFiles: [...temporalSuite.setupFiles, 'test/helpers/setup-cluster.ts'],
                globalSetup: ['test/helpers/globalSetup.cluster.ts'],
                testTimeout: 600_000,
              },
            },
          ]
        : []),
      // Fault and attack suites: hundreds of attempts against real processes, minutes each. Only with
      // ECP_RELIABILITY_SUITES=1 (npm run test:faults / test:attacks), so `npm test` stays as it was.
      ...(process.env.ECP_RELIABILITY_SUITES
        ? [
            { test: { name: 'faults', include: ['test/faults/**/*.test.ts'], ...temporalSuite, testTimeout: 600_000 } },
            {
              test: {
                name: 'attacks',
                include: ['test/attacks/**/*.test.ts'],
                exclude: ['test/attacks/integrity/**'],
                ...temporalSuite,
                testTimeout: 900_000,
              },
            },
          ]
        : []),
    ],
  },
});
