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
import { ensureSearchAttributes } from '../../../worker/searchAttributes';
import { resolveTemporalCli } from '../../../worker/temporalCli';
import { freePort } from '../../helpers/temporalServers';
import { startFaultTarget, type FaultTarget } from './faultTarget';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEMO_DIR = join(ROOT, 'examples', 'demo');

/** Executor knobs of the fault action types; the suite's expectations are derived from these. */
export const FAULT_RETRY = { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '1s', backoffCoefficient: 1 };
export const FAULT_TIMEOUT_SECONDS = 5;

// `faults.op` posts to the fault target; `faults.refused` to a port nobody listens on. `gate` picks the policy path.
const FAULT_SCHEMA = ['faults.op', 'faults.refused']
  .map(
    (a) =>
      `action "${a}" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: { mode: String, gate: String }, claims: {}, facts: {} } };`,
  )
  .join('\n');
const FAULT_POLICIES = `
@id("faults.auto") permit (principal, action in [Action::"faults.op", Action::"faults.refused"], resource) when { context.parameters.gate == "auto" };
@id("faults.approval") @requires_approval("finance") @deadline("30m")
permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "approve" };
@id("faults.short") @requires_approval("finance") @deadline("25s")
permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "short" };
@id("faults.race") @requires_approval("finance") @deadline("6s")
permit (principal, action == Action::"faults.op", resource) when { context.parameters.gate == "race" };
`;

export interface FaultPlane {
  ecp: EcpClient;
  address: string;
  target: DemoTarget;
  faults: FaultTarget;
  key(human: string): ReturnType<typeof loadHumanKey>;
  startWorker(): Promise<void>;
  /** SIGKILL: no graceful shutdown, in-flight activities are lost mid-call. */
  killWorker(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the file-backed dev server (SIGTERM, or SIGKILL with `hard`). */
  stopServer(hard?: boolean): Promise<void>;
  teardown(): Promise<void>;
}

/**
 * The demo plane with real process boundaries: a file-backed `temporal server start-dev` child and an ECP worker
 * child (`worker/main.ts`, as operators run it), so both can be killed and restarted. Demo target and fault target
 * run in the test process, where their request and effect counts are read.
 */
export async function startFaultPlane(): Promise<FaultPlane> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ecp-faults-'));
  const demo = prepareDemo(dataDir);
  const configDir = join(dataDir, 'faults');
  const policiesDir = join(configDir, 'policies');
  mkdirSync(configDir, { recursive: true });
  cpSync(join(DEMO_DIR, 'policies'), policiesDir, { recursive: true });
  appendFileSync(join(policiesDir, 'schema.cedarschema'), `\n${FAULT_SCHEMA}\n`);
  writeFileSync(join(policiesDir, 'faults.cedar'), FAULT_POLICIES);
  const refusedPort = await freePort();
  const faultType = (url: string) => ({
    parameters: { type: 'object', required: ['mode', 'gate'], properties: { mode: { type: 'string' }, gate: { type: 'string' } } },
    executor: { http: { method: 'POST', url, body: 'parameters' } },
    retry: FAULT_RETRY,
    timeout: `${FAULT_TIMEOUT_SECONDS}s`,
  });
  const actionTypes = {
    ...(parse(readFileSync(join(DEMO_DIR, 'action-types.yaml'), 'utf8')) as object),
    'faults.op': faultType('${env:FAULT_TARGET_URL}/op/{mode}'),
    'faults.refused': faultType(`http://127.0.0.1:${refusedPort}/op/{mode}`),
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

  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const cli = resolveTemporalCli('/nonexistent-ecp-data');
  if (!cli) throw new Error('the temporal CLI is not on PATH');
  const dbFile = join(dataDir, 'temporal.db');
  let server: ChildProcess | undefined;
  let worker: ChildProcess | undefined;
  const children = new Set<ChildProcess>();
  const killAll = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', killAll);

  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );
  const track = (child: ChildProcess) => {
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };

  const startServer = async () => {
    server = track(
      spawn(
        cli,
        ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', dbFile, '--log-level', 'error'],
        { stdio: 'ignore' },
      ),
    );
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        const probe = await Connection.connect({ address, connectTimeout: '1s' });
        await probe.workflowService.getSystemInfo({});
        await probe.close();
        return;
      } catch (err) {
        if (Date.now() > until || server.exitCode !== null)
          throw new Error(`dev server did not come up on ${address}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  await startServer();
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, 'default');
  const runtime = new PlaneRuntime(configPath);
  const ecp = new EcpClient(new Client({ connection, namespace: 'default' }), runtime.config);

  const workerEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    DEMO_TARGET_URL: targetUrl,
    DEMO_TARGET_TOKEN: demo.targetToken,
    FAULT_TARGET_URL: faults.url,
    ECP_LOG_LEVEL: 'ERROR',
  };
  return {
    ecp,
    address,
    target,
    faults,
    key: (human) => loadHumanKey(demo.keysDir, human),
    async startWorker() {
      const child = track(
        spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts'), '--config', configPath], {
          cwd: ROOT,
          env: workerEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      worker = child;
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not start within 120s:\n${output}`)), 120_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ECP worker running')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`worker exited (${code ?? signal}) before it was running:\n${output}`));
        });
      });
    },
    async killWorker() {
      if (!worker) return;
      worker.kill('SIGKILL');
      await exited(worker);
      worker = undefined;
    },
    startServer,
    async stopServer(hard = false) {
      if (!server) return;
      server.kill(hard ? 'SIGKILL' : 'SIGTERM');
      await exited(server);
      server = undefined;
    },
    async teardown() {
      killAll();
      await Promise.all([...children].map(exited));
      process.off('exit', killAll);
      await connection.close().catch(() => {});
      targetServer.close();
      await faults.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
