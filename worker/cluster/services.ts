/**
 * The Temporal server as separate processes — frontend, matching, worker and several history processes sharing the
 * shards — each with its own generated config file (the module's development-postgres12.yaml with this run's ports,
 * database and dynamic config) and log file in the run directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { EcpError } from '../../common';
import type { TemporalServerBuild } from './build';
import { CLUSTER } from './settings';

/** One server process: its Temporal service and, for history, which of the history processes it is. */
export interface ServiceSpec {
  /** `frontend`, `matching`, `worker`, `history-1`, `history-2`, … */
  name: string;
  service: 'frontend' | 'matching' | 'worker' | 'history';
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

/** Ports this process has handed out: a port checked free is not held, so it must not be handed out twice. */
const handedOut = new Set<number>();

/**
 * A free TCP port on loopback below 32768. Temporal stores its processes' ports in a PostgreSQL smallint (cluster
 * membership), so the OS's ephemeral ports (32768 and up) are refused there; this picks at random from 20000–32767,
 * skips ports it handed out before (a cluster's plan asks for a dozen before any binds) and checks that the port
 * binds. Another program can still take the port before its process binds it: see portClash.
 */
export async function freeLoopbackPort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (handedOut.has(port)) continue;
    if (await binds(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new EcpError('connection', 'no free TCP port on 127.0.0.1 between 20000 and 32767');
}

function binds(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The same process with new ports (the frontend keeps `fixedFrontendPort` when the caller chose it), for a process
 * that could not bind a port planned for it.
 */
export async function replanPorts(spec: ServiceSpec, fixedFrontendPort?: number): Promise<ServiceSpec> {
  return {
    ...spec,
    grpcPort: spec.service === 'frontend' && fixedFrontendPort !== undefined ? fixedFrontendPort : await freeLoopbackPort(),
    membershipPort: await freeLoopbackPort(),
    ...(spec.httpPort !== undefined ? { httpPort: await freeLoopbackPort() } : {}),
  };
}

/** The processes of a cluster with `historyProcesses` history processes; the frontend on `frontendPort`. */
export async function planServices(frontendPort: number, historyProcesses: number): Promise<ServiceSpec[]> {
  const specs: ServiceSpec[] = [
    {
      name: 'frontend',
      service: 'frontend',
      grpcPort: frontendPort,
      membershipPort: await freeLoopbackPort(),
      httpPort: await freeLoopbackPort(),
    },
    { name: 'matching', service: 'matching', grpcPort: await freeLoopbackPort(), membershipPort: await freeLoopbackPort() },
    { name: 'worker', service: 'worker', grpcPort: await freeLoopbackPort(), membershipPort: await freeLoopbackPort() },
  ];
  for (let i = 1; i <= historyProcesses; i++)
    specs.push({ name: `history-${i}`, service: 'history', grpcPort: await freeLoopbackPort(), membershipPort: await freeLoopbackPort() });
  return specs;
}

/** The parts of Temporal's server config this file edits (the rest is kept as the module has it). */
interface ServerConfigYaml {
  [key: string]: unknown;
  persistence: { numHistoryShards: number; datastores: Record<string, { sql: Record<string, unknown> }> };
  global: Record<string, unknown>;
  services: Record<string, unknown>;
  clusterMetadata: { clusterInformation: { active: { rpcAddress: string } } };
}

/**
 * The config file for `spec`: the module's development config with this run's settings. Every process gets the
 * full services map (a process only binds its own service's ports) so each knows the frontend's address.
 */
export function serviceConfig(
  build: TemporalServerBuild,
  specs: ServiceSpec[],
  spec: ServiceSpec,
  options: { postgresPort: number; dynamicConfigPath: string; logLevel: string },
): string {
  const config = parse(readFileSync(build.baseConfig, 'utf8')) as ServerConfigYaml;
  config.log = { stdout: true, level: options.logLevel };
  config.persistence.numHistoryShards = CLUSTER.numHistoryShards;
  const stores = config.persistence.datastores;
  const databases = [CLUSTER.databases.temporal, CLUSTER.databases.visibility];
  Object.values(stores).forEach((store, i) => {
    Object.assign(store.sql, {
      pluginName: CLUSTER.sqlPlugin,
      databaseName: databases[i],
      connectAddr: `127.0.0.1:${options.postgresPort}`,
      user: CLUSTER.postgresUser,
      password: '',
    });
  });
  // No metrics or pprof listeners: several processes would contend for the same ports, and nothing scrapes them.
  delete config.global.pprof;
  delete config.global.metrics;
  const bySerivce = (service: ServiceSpec['service']) => specs.find((s) => s.service === service)!;
  config.services = {};
  for (const service of ['frontend', 'matching', 'worker', 'history'] as const) {
    const own = spec.service === service ? spec : bySerivce(service);
    config.services[service] = {
      rpc: {
        grpcPort: own.grpcPort,
        membershipPort: own.membershipPort,
        bindOnLocalHost: true,
        ...(own.httpPort ? { httpPort: own.httpPort } : {}),
      },
    };
  }
  config.clusterMetadata.clusterInformation.active.rpcAddress = `127.0.0.1:${bySerivce('frontend').grpcPort}`;
  // Archival stays off: ECP keeps its own evidence archive; Temporal's would write to /tmp.
  config.archival = { history: { state: 'disabled' }, visibility: { state: 'disabled' } };
  config.namespaceDefaults = { archival: { history: { state: 'disabled' }, visibility: { state: 'disabled' } } };
  config.dynamicConfigClient = { filepath: options.dynamicConfigPath, pollInterval: '10s' };
  return stringify(config);
}

/** A running server process and how to stop it. */
export interface ServiceProcess {
  spec: ServiceSpec;
  child: ChildProcess;
  logFile: string;
}

/** Starts the server for `spec` with its generated config (written into `runDir`); output goes to `<name>.log`. */
export function startService(build: TemporalServerBuild, runDir: string, spec: ServiceSpec, configText: string): ServiceProcess {
  const configPath = join(runDir, `${spec.name}.yaml`);
  writeFileSync(configPath, configText);
  const logFile = join(runDir, `${spec.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(build.server, ['--config-file', configPath, '--allow-no-auth', 'start', '--service', spec.service], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.once('error', () => {});
  return { spec, child, logFile };
}

/** Stops a server process: SIGTERM (a history process hands its shards over), SIGKILL after `graceMs`. */
export async function stopService(proc: ServiceProcess, graceMs = 10_000): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

/** The last lines of a process's log, for error messages. */
export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * True when the process exited because a port planned for it was taken by the time it bound it (Temporal logs
 * "bind: address already in use" and exits 1).
 */
export function portClash(proc: ServiceProcess): boolean {
  if (proc.child.exitCode === null && proc.child.signalCode === null) return false;
  return logTail(proc.logFile, 5).includes('address already in use');
}

/** Throws, naming the process and its log, when a server process exited while it should be running. */
export function assertRunning(procs: ServiceProcess[]): void {
  for (const p of procs)
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new EcpError(
        'connection',
        `Temporal ${p.spec.name} exited (${p.child.exitCode ?? p.child.signalCode}); its log ${p.logFile} ends:\n${logTail(p.logFile)}`,
      );
}
