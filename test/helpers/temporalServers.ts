import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ECP_SEARCH_ATTRIBUTES } from '../../common';
import { WORKFLOWS_PATH } from '../../workflows/bundle';
import { devServerTuningArgs } from '../../worker/devServerTuning';
import { serverLimitArgs } from '../../worker/serverLimits';
import { findTemporalTool, TEMPORAL_TOOLS } from '../../worker/temporalCli';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real Temporal dev server (in-memory unless `dbFilename`): the CLI the test run's globalSetup found or installed
 * (TEMPORAL_CLI_PATH), else PATH or the project's cache, else the SDK's download. With ECP's server limits as the
 * embedded plane sets them (`limits: false`: Temporal's defaults, as on a server ECP does not control).
 */
export async function startDevServer(
  options: { port?: number; dbFilename?: string; limits?: boolean } = {},
): Promise<{ env: TestWorkflowEnvironment; address: string; port: number }> {
  // The cluster suite (vitest project `cluster`) runs the workflow suite's files against the Temporal cluster its
  // globalSetup started: the server is already there, with ECP's limits and search attributes.
  const existing = process.env.ECP_TEST_TEMPORAL_ADDRESS;
  if (existing && !options.dbFilename && options.limits !== false) {
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address: existing, namespace: 'default' });
    return { env, address: existing, port: Number(existing.split(':').pop()) };
  }
  const port = options.port ?? (await freePort());
  const path = findTemporalTool(TEMPORAL_TOOLS.cli);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: path ? { type: 'existing-path', path } : { type: 'cached-download' },
      ip: '127.0.0.1',
      port,
      ui: false,
      searchAttributes: ECP_SEARCH_ATTRIBUTES,
      extraArgs: [...(options.limits === false ? [] : serverLimitArgs()), ...devServerTuningArgs()],
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      log: { format: 'pretty', level: 'error' },
    },
  });
  return { env, address: `127.0.0.1:${port}`, port };
}

/** Temporal's time-skipping test server, for deadlines measured in hours (found as startDevServer finds the CLI). */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const explicit = findTemporalTool(TEMPORAL_TOOLS.testServer);
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: explicit ? { type: 'existing-path', path: explicit } : { type: 'cached-download' } },
  });
}

/** Workflow code for the time-skipping server: identical, except search attributes are not published. */
export async function bundleWithoutVisibility() {
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const workerRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/worker'));
  const webpack = workerRequire('webpack') as typeof import('webpack');
  const stand_in = fileURLToPath(new URL('./noVisibility.ts', import.meta.url));
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    webpackConfigHook: (config) => {
      config.plugins = [...(config.plugins ?? []), new webpack.NormalModuleReplacementPlugin(/^\.\/visibility$/, stand_in)];
      return config;
    },
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
}
