/**
 * Once per run of the cluster suite: PostgreSQL found, and the Temporal server and schema tool built from the Go module
 * proxy (or found in the cache outside the repository). As root on a machine with apt-get (CI), a missing PostgreSQL
 * or Go is installed first, as the browser suite installs Chromium; otherwise the run fails here saying what to
 * install — nothing is skipped. Each test file then starts its own cluster (test/helpers/setup-cluster.ts). The plane's
 * workflow bundle is built once here too (sharedWorkflowBundle.ts).
 */
import { execFileSync } from 'node:child_process';
import { ensureTemporalServer, findTemporalServer } from '../../worker/cluster/build';
import { findPostgresBin } from '../../worker/cluster/postgres';
import { CLUSTER } from '../../worker/cluster/settings';
import { findOnPath } from '../../worker/temporalCli';
import { shareWorkflowBundle } from './sharedWorkflowBundle';

const log = (line: string) => console.log(`[cluster setup] ${line}`);

/** `apt-get install` of `packages` when this process may (root, apt-get present); false when it may not. */
function aptInstall(packages: string[]): boolean {
  if (process.getuid?.() !== 0 || !findOnPath('apt-get')) return false;
  log(`installing ${packages.join(' ')} with apt-get (running as root) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'ignore', env });
  return true;
}

export default async function setup(): Promise<() => void> {
  let pgBin: string;
  try {
    pgBin = findPostgresBin();
  } catch (err) {
    if (!aptInstall([`postgresql-${CLUSTER.postgresMajor}`])) throw err;
    pgBin = findPostgresBin();
  }
  log(`PostgreSQL binaries in ${pgBin}`);
  // Go is needed only to build the server the first time; any Go from 1.21 fetches the toolchain the server needs.
  if (!findTemporalServer() && !findOnPath('go')) aptInstall(['golang-go', 'ca-certificates', 'git']);
  const started = Date.now();
  const build = ensureTemporalServer({ log });
  log(`Temporal server build in ${build.dir} (${Math.round((Date.now() - started) / 1000)} s)`);
  return shareWorkflowBundle();
}
