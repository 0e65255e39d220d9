import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { EcpClient } from '../../../client';
import { loadHumanKey } from '../../../client/keys';
import { PlaneRuntime } from '../../../config/runtime';
import { prepareDemo } from '../../../examples/demo/setup';
import { createDemoTarget, serveDemoTarget, type DemoTarget } from '../../../examples/demo/target';
import { FAULT_RETRY } from '../../faults/helpers/faultPlane';
import { startFaultTarget, type FaultTarget } from '../../faults/helpers/faultTarget';
import { freePort } from '../../helpers/temporalServers';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEMO_DIR = join(ROOT, 'examples', 'demo');

// `faults.op` posts to the fault target (`slowok` holds its answer 2.5 s after applying the effect, so a kill lands
// while executor calls are in flight); `gate` picks the policy path.
const SCHEMA = `action "faults.op" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: { mode: String, gate: String }, claims: {}, facts: {} } };`;
const POLICIES = `
@id("faults.auto") permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "auto" };
@id("faults.approval") @requires_approval("finance") @deadline("30m")
permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "approve" };
@id("faults.short") @requires_approval("finance") @deadline("20s")
permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "short" };
`;

/**
 * The demo plane on the cluster with real process boundaries: N ECP worker processes (`worker/main.ts`, as operators
 * run it) on the same task queue, each killable with SIGKILL. Targets run in the test process, where request and
 * effect counts are read.
 */
export interface ClusterPlane {
  ecp: EcpClient;
  /** The plane's own data dir (demo keys, directory); workers use it unless `startWorker` gives them another. */
  dataDir: string;
  configPath: string;
  policiesDir: string;
  directoryPath: string;
  target: DemoTarget;
  faults: FaultTarget;
  key(human: string): ReturnType<typeof loadHumanKey>;
  /** Starts worker `i` (0-based) and resolves once it polls; `env` adds to or overrides the worker's environment. */
  startWorker(i: number, env?: Record<string, string>): Promise<void>;
  /** SIGTERM of worker `i` (graceful shutdown), resolved once it exited. */
  stopWorker(i: number): Promise<void>;
  /** SIGKILL of worker `i`: no graceful shutdown, in-flight activities are lost mid-call. */
  killWorker(i: number): Promise<void>;
  teardown(): Promise<void>;
}

export async function startClusterPlane(address: string): Promise<ClusterPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ecp-cluster-plane-'));
  const demo = prepareDemo(dataDir);
  const configDir = join(dataDir, 'cluster');
  const policiesDir = join(configDir, 'policies');
  mkdirSync(configDir, { recursive: true });
  cpSync(join(DEMO_DIR, 'policies'), policiesDir, { recursive: true });
  appendFileSync(join(policiesDir, 'schema.cedarschema'), `\n${SCHEMA}\n`);
  writeFileSync(join(policiesDir, 'faults.cedar'), POLICIES);
  const actionTypes = {
    ...(parse(readFileSync(join(DEMO_DIR, 'action-types.yaml'), 'utf8')) as object),
    'faults.op': {
      parameters: { type: 'object', required: ['mode', 'gate'], properties: { mode: { type: 'string' }, gate: { type: 'string' } } },
      executor: { http: { method: 'POST', url: '${env:FAULT_TARGET_URL}/op/{mode}', body: 'parameters' } },
      retry: FAULT_RETRY,
      timeout: '5s',
    },
  };
  writeFileSync(join(configDir, 'action-types.yaml'), stringify(actionTypes));
  const configPath = join(configDir, 'ecp.yaml');
  writeFileSync(
    configPath,
    stringify({ policies: './policies', actionTypes: './action-types.yaml', directory: join(dataDir, 'demo', 'directory.yaml') }),
  );

  const target = createDemoTarget(demo.targetToken);
  const targetServer: ServerType = await serveDemoTarget(target, await freePort());
  const targetUrl = `http://127.0.0.1:${(targetServer.address() as { port: number }).port}`;
  const faults = await startFaultTarget();

  const connection = await Connection.connect({ address });
  const runtime = new PlaneRuntime(configPath);
  const ecp = new EcpClient(new Client({ connection, namespace: 'default' }), runtime.config);
  const workers = new Map<number, ChildProcess>();
  const killAll = () => workers.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );

  const workerEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    ECP_DATA_DIR: dataDir,
    DEMO_TARGET_URL: targetUrl,
    DEMO_TARGET_TOKEN: demo.targetToken,
    FAULT_TARGET_URL: faults.url,
    // `info`: the worker's "ECP worker running" line, which startWorker waits for, is an info line.
    ECP_LOG_LEVEL: 'info',
  };
  return {
    ecp,
    dataDir,
    configPath,
    policiesDir,
    directoryPath: join(dataDir, 'demo', 'directory.yaml'),
    target,
    faults,
    key: (human) => loadHumanKey(demo.keysDir, human),
    async startWorker(i, env = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts'), '--config', configPath], {
        cwd: ROOT,
        env: { ...workerEnv, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      workers.set(i, child);
      let output = '';
      let running = false;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${i} did not start within 120s:\n${output}`)), 120_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          if (running) return; // drained, not kept: the pipe must not fill up
          output += chunk.toString();
          if (output.includes('ECP worker running')) {
            running = true;
            clearTimeout(timer);
            resolve();
          }
        });
        child.stderr!.on('data', (chunk: Buffer) => void (running || (output += chunk.toString())));
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`worker ${i} exited (${code ?? signal}) before it was running:\n${output}`));
        });
      });
    },
    async stopWorker(i) {
      const child = workers.get(i);
      if (!child) return;
      child.kill('SIGTERM');
      await exited(child);
      workers.delete(i);
    },
    async killWorker(i) {
      const child = workers.get(i);
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      workers.delete(i);
    },
    async teardown() {
      killAll();
      await Promise.all([...workers.values()].map(exited));
      process.off('exit', killAll);
      await connection.close().catch(() => {});
      targetServer.close();
      await faults.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
