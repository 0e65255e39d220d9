/**
 * A private PostgreSQL for the local cluster: its own data directory, loopback only, trust authentication for the
 * `temporal` role (nothing but this machine can reach it). PostgreSQL refuses to run as root, so under root it runs
 * as the `postgres` user (the data directory is chowned to it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, closeSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { EcpError } from '../../common';
import { findOnPath } from '../temporalCli';
import { CLUSTER } from './settings';

/** The folder with `initdb` and `postgres` of CLUSTER.postgresMajor: ECP_POSTGRES_BIN, the Debian/Ubuntu path, or PATH. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.ECP_POSTGRES_BIN,
    `/usr/lib/postgresql/${CLUSTER.postgresMajor}/bin`,
    `/usr/pgsql-${CLUSTER.postgresMajor}/bin`,
  ].filter((d): d is string => !!d);
  for (const dir of candidates) if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  const onPath = findOnPath('initdb', env);
  if (onPath) {
    const dir = onPath.slice(0, -'/initdb'.length);
    const version = execFileSync(join(dir, 'postgres'), ['--version'], { encoding: 'utf8' });
    if (new RegExp(`\\b${CLUSTER.postgresMajor}\\.`).test(version)) return dir;
  }
  throw new EcpError(
    'connection',
    `PostgreSQL ${CLUSTER.postgresMajor} is not installed (no initdb in ${candidates.join(', ')} or on PATH). ` +
      `Install it (Debian/Ubuntu: apt-get install postgresql-${CLUSTER.postgresMajor}) or set ECP_POSTGRES_BIN to its bin folder.`,
    'ECP_POSTGRES_BIN',
  );
}

/** The uid/gid to run PostgreSQL as: this process's own, or the `postgres` user's when this process is root. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new EcpError('connection', 'PostgreSQL refuses to run as root and there is no `postgres` user to run it as; run as another user');
  }
}

export interface LocalPostgres {
  port: number;
  /** Stops the server (fast shutdown: open transactions are rolled back), waiting until it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  start(): Promise<void>;
  /** The running server's process, or null. */
  process(): ChildProcess | null;
}

/**
 * Initialises `<dir>/pgdata` when empty (role CLUSTER.postgresUser, trust on loopback) and starts PostgreSQL on
 * 127.0.0.1:`port`; resolves once it accepts connections. Reuses an existing data directory as is.
 */
export async function startPostgres(dir: string, port: number, log: (line: string) => void = () => {}): Promise<LocalPostgres> {
  const bin = findPostgresBin();
  const user = runAs();
  const dataDir = join(dir, 'pgdata');
  const socketDir = join(dir, 'pgsocket');
  for (const d of [dataDir, socketDir]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    if (user) chownSync(d, user.uid, user.gid);
  }
  if (readdirSync(dataDir).length === 0) {
    log(`initialising PostgreSQL ${CLUSTER.postgresMajor} in ${dataDir}`);
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', CLUSTER.postgresUser, '--auth=trust', '--encoding=UTF8', '--no-instructions'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user ?? {}),
    });
  }
  let child: ChildProcess | null = null;
  const logFile = join(dir, 'postgres.log');
  const start = async () => {
    const fd = openSync(logFile, 'a');
    if (user) chownSync(logFile, user.uid, user.gid);
    const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`];
    const proc = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', fd, fd], ...(user ?? {}) });
    closeSync(fd);
    child = proc;
    await waitReady(port, proc, logFile);
  };
  await start();
  return {
    port,
    start,
    process: () => child,
    async stop() {
      const proc = child;
      child = null;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGINT');
      await exited;
    },
  };
}

async function waitReady(port: number, proc: ChildProcess, logFile: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: CLUSTER.postgresUser, database: 'postgres' });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (proc.exitCode !== null || Date.now() > until)
        throw new EcpError('connection', `PostgreSQL did not start on 127.0.0.1:${port}: ${(err as Error).message} (see ${logFile})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
