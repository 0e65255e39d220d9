import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './temporalServers';

/** Where Debian/Ubuntu install PostgreSQL 15's server binaries (override with ECP_TEST_PG_BIN). */
const PG_BIN = process.env.ECP_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication on loopback only). */
  url: string;
  /** Creates a fresh, empty database and returns its URL (one per test keeps tests independent). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** True when the PostgreSQL server binaries are installed here (tests skip with a clear reason otherwise). */
export function postgresAvailable(): boolean {
  return existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_ctl'));
}

/**
 * A real PostgreSQL server for a test: a private data dir in a temp folder, a free loopback port, trust auth for the
 * `postgres` user on loopback only. PostgreSQL refuses to run as root, so when the test runs as root `initdb` and
 * `pg_ctl` run as the `postgres` user (`runuser`) on a folder chowned to it. `stop()` shuts it down and removes it.
 */
export async function startPostgres(): Promise<TestPostgres> {
  if (!postgresAvailable()) throw new Error(`PostgreSQL server binaries not found in ${PG_BIN} (set ECP_TEST_PG_BIN)`);
  const root = mkdtempSync(join(tmpdir(), 'ecp-pg-'));
  const asRoot = userInfo().uid === 0;
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : join(PG_BIN, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(PG_BIN, tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  };
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', root]);
  else chownSync(root, userInfo().uid, userInfo().gid);
  const data = join(root, 'data');
  const superuser = asRoot ? 'postgres' : userInfo().username;
  run('initdb', ['-D', data, '-U', superuser, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  // Loopback TCP only; the socket goes to the private folder (the system's /var/run/postgresql may not exist).
  const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${root} -c fsync=off -c max_connections=50`;
  run('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
  const url = `postgres://${superuser}@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    port,
    url,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}" must be a lower-case identifier`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://${superuser}@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}
