import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { ServerType } from '@hono/node-server';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { EcpClient } from '../../client';
import { loadHumanKey } from '../../client/keys';
import { ListingSealVerifier, loadOrCreatePlaneKey } from '../../client/listingSeal';
import { PlaneRuntime, type PlaneExtensions } from '../../config/runtime';
import { prepareDemo } from '../../examples/demo/setup';
import { createDemoTarget, serveDemoTarget, type DemoTarget } from '../../examples/demo/target';
import { createNotificationWorker, createPlaneWorker } from '../../worker/plane';
import { ensureSearchAttributes } from '../../worker/searchAttributes';
import { ensureGovernanceControls } from '../../worker/governanceControls';
import { freePort, startDevServer } from './temporalServers';

export interface TestPlane {
  env: TestWorkflowEnvironment;
  /** host:port of the dev server, for subprocesses (TEMPORAL_ADDRESS). */
  address: string;
  ecp: EcpClient;
  runtime: PlaneRuntime;
  /** The plane key that seals this plane's attempts for listing (its public key is in `<dataDir>/plane/plane.pub`). */
  planeKey: KeyObject;
  target: DemoTarget;
  targetUrl: string;
  dataDir: string;
  keysDir: string;
  configPath: string;
  policiesDir: string;
  directoryPath: string;
  /** Writes (or with null removes) a policy file in this plane's bundle; call `runtime.reload()` to apply. */
  setPolicy(file: string, text: string | null): void;
  /** Edits this plane's directory file in place; call `runtime.reload()` to apply. */
  editDirectory(edit: (directory: { humans: Record<string, { groups: string[]; publicKeys: string[] }> }) => void): void;
  key(human: string): ReturnType<typeof loadHumanKey>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  teardown(): Promise<void>;
}

/**
 * The demo plane for tests, on a real dev server: demo config with generated keys in a temp data dir, the demo
 * target on a free port, and a worker running in this process. `configPath` lets a test use other policies.
 */
export interface TestPlaneOptions {
  /** Policy files to add or replace (null removes) in a copy of the demo bundle. */
  policies?: Record<string, string | null>;
  /** Action types added to (or replacing) the demo's. */
  actionTypes?: Record<string, unknown>;
  /** Cedar schema text appended to the demo schema (e.g. actions for extra action types). */
  schemaExtra?: string;
  extensions?: PlaneExtensions;
  env?: TestWorkflowEnvironment;
  address?: string;
  workerOptions?: Partial<WorkerOptions>;
  /** False: the dev server keeps Temporal's default limits, as a server ECP does not control (default true). */
  serverLimits?: boolean;
  /** ecp.yaml's `mcp:` section (downstream servers); the worker connects to them and lists their tools. */
  mcp?: Record<string, unknown>;
  /** More top-level ecp.yaml sections (e.g. `controls`, `notifications`); their workflows are started as `npm start` does. */
  config?: Record<string, unknown>;
}

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'demo');

export async function startTestPlane(options: TestPlaneOptions = {}): Promise<TestPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ecp-test-'));
  const demo = prepareDemo(dataDir);
  const configDir = join(dataDir, 'test');
  const policiesDir = join(configDir, 'policies');
  mkdirSync(configDir, { recursive: true });
  cpSync(join(DEMO_DIR, 'policies'), policiesDir, { recursive: true });
  const setPolicy = (file: string, text: string | null) => {
    if (text === null) rmSync(join(policiesDir, file), { force: true });
    else writeFileSync(join(policiesDir, file), text);
  };
  for (const [file, text] of Object.entries(options.policies ?? {})) setPolicy(file, text);
  if (options.schemaExtra) appendFileSync(join(policiesDir, 'schema.cedarschema'), `\n${options.schemaExtra}`);
  const actionTypes = { ...(parse(readFileSync(join(DEMO_DIR, 'action-types.yaml'), 'utf8')) as object), ...options.actionTypes };
  writeFileSync(join(configDir, 'action-types.yaml'), stringify(actionTypes));
  const directoryPath = join(dataDir, 'demo', 'directory.yaml');
  const configPath = join(configDir, 'ecp.yaml');
  writeFileSync(
    configPath,
    stringify({
      policies: './policies',
      actionTypes: './action-types.yaml',
      directory: directoryPath,
      ...(options.mcp ? { mcp: options.mcp } : {}),
      ...options.config,
    }),
  );
  const targetPort = await freePort();
  // The webhook secret too: a test that configures the demo's notifications (demoGovernanceConfig) gets its receiver.
  const target = createDemoTarget(demo.targetToken, { webhookSecret: demo.webhookSecret });
  const targetServer: ServerType = await serveDemoTarget(target, targetPort);
  process.env.DEMO_TARGET_TOKEN = demo.targetToken;
  process.env.DEMO_WEBHOOK_SECRET = demo.webhookSecret;
  process.env.DEMO_TARGET_URL = `http://127.0.0.1:${targetPort}`;

  const server = options.env
    ? { env: options.env, address: options.address ?? '' }
    : await startDevServer({ limits: options.serverLimits });
  const { env } = server;
  // The time-skipping test server has no operator service; it accepts search attributes without registration.
  if (!options.env) await ensureSearchAttributes(env.connection, 'default');
  const runtime = new PlaneRuntime(configPath, options.extensions);
  // The plane key in this plane's data dir, as `npm start` makes it: the CLI (ECP_DATA_DIR) finds its public key there.
  const planeKey = loadOrCreatePlaneKey(dataDir, {});
  const ecp = new EcpClient(
    new Client({ connection: env.connection, namespace: 'default' }),
    runtime.config,
    new ListingSealVerifier(planeKey),
  );

  let worker: Worker | undefined;
  let notifier: Worker | undefined;
  let running: Promise<void> | undefined;
  const plane: TestPlane = {
    env,
    address: server.address,
    ecp,
    runtime,
    planeKey,
    target,
    targetUrl: process.env.DEMO_TARGET_URL,
    dataDir,
    keysDir: demo.keysDir,
    configPath,
    policiesDir,
    directoryPath,
    setPolicy,
    editDirectory(edit) {
      const directory = parse(readFileSync(directoryPath, 'utf8'));
      edit(directory);
      writeFileSync(directoryPath, stringify(directory));
    },
    key: (human) => loadHumanKey(demo.keysDir, human),
    async startWorker() {
      worker = await createPlaneWorker({
        connection: env.nativeConnection,
        namespace: 'default',
        runtime,
        planeKey,
        workerOptions: options.workerOptions,
        dataDir,
        log: () => {},
      });
      // With notifications configured, their own worker too, as `npm start` runs it.
      notifier = runtime.config.notifications
        ? await createNotificationWorker({ connection: env.nativeConnection, namespace: 'default', runtime, planeKey })
        : undefined;
      running = Promise.all([worker.run(), notifier?.run()]).then(() => {});
    },
    async stopWorker() {
      if (!worker) return;
      worker.shutdown();
      notifier?.shutdown();
      await running;
      worker = undefined;
      notifier = undefined;
    },
    async teardown() {
      await plane.stopWorker();
      targetServer.close();
      if (!options.env) await env.teardown();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await plane.startWorker();
  await ensureGovernanceControls(ecp.client, runtime.config, () => {});
  return plane;
}
