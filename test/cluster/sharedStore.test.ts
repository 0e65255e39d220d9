/**
 * Several workers, one archive and one set of stores, on the production shape: two ECP worker PROCESSES with SEPARATE
 * data dirs (as on two machines) on the Temporal cluster share one store, a separate database `ecp` on the cluster's
 * own PostgreSQL (ECP_STORE_URL), and one plane key (ECP_PLANE_KEY). The policies and the directory change between
 * the two workers' turns, so an attempt one worker ran can only be exported and verified on the other's side through
 * the shared store; `ecp audit verify --archive` from either side sees one unbroken chain with entries of both.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { defaultPlaneKeyPath, loadOrCreatePlaneKey } from '../../client/listingSeal';
import type { LocalCluster } from '../../worker/cluster/cluster';
import { CLUSTER } from '../../worker/cluster/settings';
import { refundOn } from '../faults/helpers/scenarios';
import { currentCluster } from '../helpers/cluster';
import { ECP_BIN, runCommand } from '../helpers/cli';
import { archiveEntries, exportAndVerify, verifyArchiveFrom, waitForArchived, type EcpRun } from '../helpers/sharedStore';
import { waitForStatus } from '../helpers/attempts';
import { startClusterPlane, type ClusterPlane } from './helpers/clusterPlane';

let cluster: LocalCluster;
let plane: ClusterPlane;
let url: string;
let planeKey: string;
const dirs = { x: mkdtempSync(join(tmpdir(), 'ecp-cluster-x-')), y: mkdtempSync(join(tmpdir(), 'ecp-cluster-y-')) };
const WORKER = { x: 0, y: 1 } as const;

/** The environment of one side (worker or `ecp`): its own data dir, the shared store and plane key. */
const sideEnv = (side: 'x' | 'y'): Record<string, string> => ({ ECP_DATA_DIR: dirs[side], ECP_STORE_URL: url, ECP_PLANE_KEY: planeKey });

/** The real `ecp` on the cluster with this plane's configuration. */
const ecp: EcpRun = (args, env) =>
  runCommand(process.execPath, [ECP_BIN, ...args], {
    env: { TEMPORAL_ADDRESS: cluster.address, ECP_CONFIG: plane.configPath, ...env },
    timeoutMs: 120_000,
  });

/** Creates the store's database on the cluster's PostgreSQL (as an operator would) and returns its URL. */
async function createStoreDatabase(port: number, name: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: CLUSTER.postgresUser, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return `postgres://${CLUSTER.postgresUser}@127.0.0.1:${port}/${name}`;
}

/** Two attempts: an automatic refund and one alice approves; both must succeed. */
async function twoAttempts(): Promise<string[]> {
  const { attemptId: auto } = await plane.ecp.propose(refundOn(plane, 2_000));
  const { attemptId: approved } = await plane.ecp.propose(refundOn(plane, 7_500));
  await waitForStatus(plane.ecp, approved, 'AWAITING_DECISION');
  expect((await plane.ecp.decide(approved, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') })).accepted).toBe(true);
  for (const id of [auto, approved]) expect((await plane.ecp.awaitOutcome(id)).status, id).toBe('SUCCEEDED');
  return [auto, approved];
}

beforeAll(async () => {
  cluster = currentCluster();
  url = await createStoreDatabase(cluster.postgres.port, 'ecp');
  plane = await startClusterPlane(cluster.address);
  // One plane key for both workers, as an operator mounts it on every host (docs/production.md, "The plane key").
  loadOrCreatePlaneKey(plane.dataDir, {});
  planeKey = defaultPlaneKeyPath(plane.dataDir);
}, 240_000);
afterAll(async () => {
  await plane?.teardown();
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
});

describe('two worker processes on the cluster share one store (a database on the cluster’s PostgreSQL)', () => {
  const phase: Record<'x' | 'y', string[]> = { x: [], y: [] };
  const workerEnv = (side: 'x' | 'y') => ({ ...sideEnv(side), ECP_ARCHIVE_INTERVAL_SECONDS: '1' });

  it('worker X, then (after a policy and directory change) worker Y: both archive into the shared store only', async () => {
    await plane.startWorker(WORKER.x, workerEnv('x'));
    phase.x = await twoAttempts();
    await waitForArchived(url, phase.x);
    await plane.stopWorker(WORKER.x);

    // A new policy bundle and directory version: only the shared store keeps the ones X ran with.
    writeFileSync(
      join(plane.policiesDir, 'audit-note.cedar'),
      `@id("refunds.never-negative") forbid (principal, action, resource) when { context.parameters has amount && context.parameters.amount < 0 };\n`,
    );
    const directory = parse(readFileSync(plane.directoryPath, 'utf8')) as { humans: Record<string, { name?: string }> };
    directory.humans.alice!.name = 'Alice (Finance, EU)'; // a new directory version, same keys and groups
    writeFileSync(plane.directoryPath, stringify(directory));

    await plane.startWorker(WORKER.y, workerEnv('y'));
    phase.y = await twoAttempts();
    await waitForArchived(url, phase.y);
    await plane.stopWorker(WORKER.y);

    // Nothing split into the workers' own data dirs.
    for (const dir of Object.values(dirs))
      for (const sub of ['archive', 'policy-bundles', 'directories', 'code-identities'])
        expect(existsSync(join(dir, sub)), `${dir}/${sub}`).toBe(false);
  }, 150_000);

  it("an attempt of either worker exports and verifies (PASS) from either side's data dir", async () => {
    // The approved attempts: each ran under its worker's own bundle and directory version, with a signed decision.
    const approved = [phase.x[1]!, phase.y[1]!];
    // Both sides at once: each `ecp` is its own process, like two auditors on two machines.
    await Promise.all((['x', 'y'] as const).map((side) => exportAndVerify(ecp, dirs[side], approved, sideEnv(side))));
    // The control: without the shared store, Y's side lacks the bundle X ran with (the split this store prevents).
    const split = await ecp(['audit', 'export', phase.x[1]!, '-o', join(dirs.y, 'split.json')], { ...sideEnv('y'), ECP_STORE_URL: '' });
    expect(split.code).not.toBe(0);
    expect(split.stderr).toMatch(/policy bundle sha256:[0-9a-f]+ .* is neither the configured bundle nor in/);
  }, 150_000);

  it('`ecp audit verify --archive` from either side sees one unbroken chain with the entries of both workers', async () => {
    const results = await Promise.all((['x', 'y'] as const).map((side) => verifyArchiveFrom(ecp, sideEnv(side))));
    for (const result of results) {
      expect(result.location).toMatch(/@127\.0\.0\.1:\d+\/ecp$/);
      expect(result.entries).toBeGreaterThanOrEqual(4);
    }
    const ids = (await archiveEntries(url)).map((e) => e.attemptId);
    for (const id of [...phase.x, ...phase.y]) expect(ids).toContain(id);
  }, 60_000);
});
