/**
 * The production shape on one machine: PostgreSQL plus a multi-process Temporal cluster (frontend, matching, worker,
 * several history processes sharing CLUSTER.numHistoryShards shards), set up for ECP — schemas, namespace, search
 * attributes and ECP's server limits — exactly as docker-compose.yml sets up its stack (worker/cluster/settings.ts).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { EcpError } from '../../common';
import { parseDuration } from '../../common/duration';
import { ensureSearchAttributes } from '../searchAttributes';
import { ensureTemporalServer, type TemporalServerBuild } from './build';
import { startPostgres, type LocalPostgres } from './postgres';
import {
  assertRunning,
  freeLoopbackPort,
  logTail,
  planServices,
  portClash,
  replanPorts,
  serviceConfig,
  startService,
  stopService,
  type ServiceProcess,
  type ServiceSpec,
} from './services';
import { CLUSTER, clusterDynamicConfigYaml } from './settings';

export interface ClusterOptions {
  /** The run directory: PostgreSQL's data, generated configs, logs. Kept between runs (data survives a restart). */
  dir: string;
  /** The frontend's port on 127.0.0.1 (default: a free one). */
  frontendPort?: number;
  /** How many history processes share the shards (default 2). */
  historyProcesses?: number;
  /** Temporal's log level in the per-process logs (default warn). */
  logLevel?: string;
  log?: (line: string) => void;
}

export interface LocalCluster {
  /** host:port of the frontend, for TEMPORAL_ADDRESS. */
  address: string;
  dir: string;
  postgres: LocalPostgres;
  /** Names of the server processes (`frontend`, `matching`, `worker`, `history-1`, …). */
  services(): string[];
  /** Stops one server process gracefully (SIGTERM), e.g. `history-1`. */
  stopService(name: string): Promise<void>;
  /** Starts a stopped server process again with the same ports. */
  startService(name: string): Promise<void>;
  /** Process IDs of the server processes that are running now, by name (one that exited is missing). */
  pids(): Record<string, number>;
  /** Stops every server process and PostgreSQL. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts (or restarts on an existing run directory) the whole cluster and resolves when the `default` namespace
 * takes requests. Builds the server first if it is not cached (see ensureTemporalServer). On failure everything
 * started is stopped again. Safe to call on a directory a previous run left: schemas are migrated, not recreated.
 */
export async function startCluster(options: ClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? (() => {});
  const build = ensureTemporalServer({ log });
  mkdirSync(options.dir, { recursive: true });
  // PostgreSQL may run as another user (under root): it must be able to reach its folders inside.
  chmodSync(options.dir, 0o755);
  const postgres = await startPostgres(options.dir, await freeLoopbackPort(), log);
  const procs = new Map<string, ServiceProcess>();
  let specs: ServiceSpec[] = [];
  const configs = new Map<string, string>();
  const stopAll = async () => {
    await Promise.all([...procs.values()].map((p) => stopService(p)));
    procs.clear();
    await postgres.stop();
  };
  const onExit = () => {
    for (const p of procs.values()) p.child.kill('SIGKILL');
    postgres.process()?.kill('SIGQUIT');
  };
  process.once('exit', onExit);
  try {
    await setUpSchemas(build, postgres.port, log);
    const dynamicConfigPath = join(options.dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfigPath, clusterDynamicConfigYaml());
    specs = await planServices(options.frontendPort ?? (await freeLoopbackPort()), options.historyProcesses ?? 2);
    const writeConfigs = () => {
      for (const spec of specs)
        configs.set(
          spec.name,
          serviceConfig(build, specs, spec, { postgresPort: postgres.port, dynamicConfigPath, logLevel: options.logLevel ?? 'warn' }),
        );
    };
    writeConfigs();
    log(`starting Temporal ${CLUSTER.temporalServerVersion}: ${specs.map((s) => s.name).join(', ')}`);
    const launch = (spec: ServiceSpec) => procs.set(spec.name, startService(build, options.dir, spec, configs.get(spec.name)!));
    for (let round = 1; ; round++) {
      const address = `127.0.0.1:${specs[0]!.grpcPort}`;
      try {
        // The frontend first, alone: on a new database every process writes the cluster metadata at start, and the
        // losers of that race exit. Once the frontend answers, the metadata is there and the rest start at once.
        if (!procs.has(specs[0]!.name)) launch(specs[0]!);
        await waitForFrontend(address, [...procs.values()]);
        for (const spec of specs.slice(1)) if (!procs.has(spec.name)) launch(spec);
        await setUpNamespace(address, [...procs.values()], log);
        break;
      } catch (err) {
        // A port checked free is not held: another program may bind it first. Such a process (and only it) starts
        // again on new ports; the others find it through the membership table. Anything else fails the start.
        const clashed = [...procs.values()].filter(portClash);
        if (clashed.length === 0 || round >= 4) throw err;
        for (const proc of clashed) {
          procs.delete(proc.spec.name);
          const index = specs.findIndex((s) => s.name === proc.spec.name);
          specs[index] = await replanPorts(proc.spec, options.frontendPort);
          log(`Temporal ${proc.spec.name} could not bind its port; starting it again on new ports`);
        }
        writeConfigs();
      }
    }
    const address = `127.0.0.1:${specs[0]!.grpcPort}`;
    const cluster: LocalCluster = {
      address,
      dir: options.dir,
      postgres,
      services: () => specs.map((s) => s.name),
      async stopService(name) {
        const proc = procs.get(name);
        if (!proc) throw new EcpError('invalid_input', `no running Temporal process named ${name}`, 'name');
        await stopService(proc);
        procs.delete(name);
      },
      async startService(name) {
        const spec = specs.find((s) => s.name === name);
        if (!spec)
          throw new EcpError('invalid_input', `no Temporal process named ${name} (one of ${cluster.services().join(', ')})`, 'name');
        if (procs.has(name)) return;
        procs.set(name, startService(build, options.dir, spec, configs.get(name)!));
      },
      pids: () =>
        Object.fromEntries(
          [...procs].filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null).map(([name, p]) => [name, p.child.pid!]),
        ),
      async stop() {
        await stopAll();
        process.off('exit', onExit);
      },
    };
    return cluster;
  } catch (err) {
    await stopAll();
    process.off('exit', onExit);
    throw err;
  }
}

/** Creates the two databases with the base schema when missing, then migrates both to the build's newest version. */
async function setUpSchemas(build: TemporalServerBuild, port: number, log: (line: string) => void): Promise<void> {
  const base = ['--plugin', CLUSTER.sqlPlugin, '--ep', '127.0.0.1', '-p', String(port), '-u', CLUSTER.postgresUser];
  const run = (db: string, args: string[]) => {
    try {
      execFileSync(build.sqlTool, [...base, '--db', db, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      const output = `${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`.trim();
      throw new EcpError('connection', `schema setup of database ${db} failed (${args[0]}): ${output}`);
    }
  };
  for (const [db, dir] of [
    [CLUSTER.databases.temporal, build.schema.temporal],
    [CLUSTER.databases.visibility, build.schema.visibility],
  ] as const) {
    if (!(await databaseExists(port, db))) {
      log(`creating database ${db}`);
      run(db, ['create-database']);
      run(db, ['setup-schema', '-v', '0.0']);
    }
    // Idempotent: applies only versions newer than the database's.
    run(db, ['update-schema', '-d', dir]);
  }
}

async function databaseExists(port: number, db: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: CLUSTER.postgresUser, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [db])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Resolves once the frontend answers GetSystemInfo (120 s at most; fails at once if a process exited). */
async function waitForFrontend(address: string, procs: ServiceProcess[]): Promise<void> {
  const until = Date.now() + 120_000;
  for (;;) {
    assertRunning(procs);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '2s' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close().catch(() => {});
      }
    } catch (err) {
      if (Date.now() > until)
        throw new EcpError('connection', `the Temporal frontend on ${address} did not answer in 120 s: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/**
 * Waits for the frontend, registers the namespace when missing (with CLUSTER.namespaceRetention), registers ECP's
 * search attributes, and waits until a visibility query in the namespace succeeds (the frontend's namespace cache
 * refreshes on its own schedule, so a new namespace is not usable at once).
 */
async function setUpNamespace(address: string, procs: ServiceProcess[], log: (line: string) => void): Promise<void> {
  const until = Date.now() + 120_000;
  let lastError = '';
  let connection: Connection | undefined;
  try {
    for (;;) {
      assertRunning(procs);
      if (Date.now() > until)
        throw new EcpError(
          'connection',
          `the Temporal cluster on ${address} did not become ready in 120 s: ${lastError}\nfrontend log:\n${logTail(procs[0]!.logFile)}`,
        );
      try {
        connection ??= await Connection.connect({ address, connectTimeout: '2s' });
        const { workflowService, operatorService } = connection;
        const described = await workflowService.describeNamespace({ namespace: CLUSTER.namespace }).catch((err: { code?: number }) => {
          if (err.code === 5) return null; // NOT_FOUND
          throw err;
        });
        if (!described) {
          log(`creating namespace ${CLUSTER.namespace} (retention ${CLUSTER.namespaceRetention})`);
          await workflowService.registerNamespace({
            namespace: CLUSTER.namespace,
            workflowExecutionRetentionPeriod: msToTs(parseDuration(CLUSTER.namespaceRetention) * 1000),
          });
          continue;
        }
        const added = await ensureSearchAttributes(connection, CLUSTER.namespace);
        if (added.length > 0) log(`registered search attributes ${added.join(', ')}`);
        await operatorService.listSearchAttributes({ namespace: CLUSTER.namespace });
        await workflowService.listWorkflowExecutions({
          namespace: CLUSTER.namespace,
          pageSize: 1,
          query: 'EcpStatus = "AWAITING_DECISION"',
        });
        return;
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection?.close().catch(() => {});
  }
}
