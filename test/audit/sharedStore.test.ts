/**
 * Several workers, one archive and one set of stores: two planes with SEPARATE data dirs (as on two machines) on one
 * Temporal dev server share a real PostgreSQL 15 store (ECP_STORE_URL). The policies and the directory change between
 * the two workers' turns, so an attempt of the first can only be exported and verified on the second's side through
 * the shared store. `ecp audit verify --archive` sees one unbroken chain with entries of both; concurrent sealers on
 * the store never fork it.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../audit/archive/archive';
import { sealAttempt } from '../../audit/archive/sealer';
import { verifyArchive } from '../../audit/archive/verify';
import { PostgresStore } from '../../audit/store/postgres';
import { defaultPlaneKeyPath } from '../../client/listingSeal';
import { runPlane, type RunningPlane } from '../../worker/plane-process';
import { refund, waitForStatus } from '../helpers/attempts';
import { runEcp } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { postgresAvailable, startPostgres, type TestPostgres } from '../helpers/postgres';
import { archiveEntries, exportAndVerify, verifyArchiveFrom, waitForArchived, type EcpRun } from '../helpers/sharedStore';
import { scratchDir } from '../helpers/scratchDir';

let pg: TestPostgres;
let url: string;
let plane: TestPlane;
const dirs = { x: scratchDir('ecp-worker-x'), y: scratchDir('ecp-worker-y') };
const saved = { ...process.env };

/** One plane worker on its own data dir, archiving into the shared store (ECP_STORE_URL). */
const startWorker = (dataDir: string): Promise<RunningPlane> =>
  runPlane({
    configPath: plane.configPath,
    dataDir,
    archive: { enabled: true, dir: join(dataDir, 'archive'), intervalSeconds: 1 },
    log: () => {},
  });

/** Two attempts on one order: an automatic refund and one alice approves. */
async function twoAttempts(orderId: string): Promise<string[]> {
  const { attemptId: auto } = await plane.ecp.propose(refund(100, orderId));
  const { attemptId: approved } = await plane.ecp.propose(refund(6_000, orderId));
  await waitForStatus(plane.ecp, approved, 'AWAITING_DECISION');
  expect((await plane.ecp.decide(approved, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') })).accepted).toBe(true);
  for (const id of [auto, approved]) expect((await plane.ecp.awaitOutcome(id)).status).toBe('SUCCEEDED');
  return [auto, approved];
}

const archived = (ids: string[]) => waitForArchived(url, ids);
const ecp: EcpRun = (args, env) => runEcp(plane, args, { env });

beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase('ecp_shared');
  plane = await startTestPlane();
  await plane.stopWorker(); // only the two plane workers below poll the task queue
  process.env.TEMPORAL_ADDRESS = plane.address;
  process.env.ECP_STORE_URL = url;
  // Both workers seal listings with one plane key, as an operator configures for several workers.
  process.env.ECP_PLANE_KEY = defaultPlaneKeyPath(plane.dataDir);
}, 240_000);
afterAll(async () => {
  process.env = saved;
  await plane?.teardown();
  await pg?.stop();
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!postgresAvailable())('shared PostgreSQL store for several workers (real PostgreSQL 15 + dev server)', () => {
  const phase: Record<'x' | 'y', string[]> = { x: [], y: [] };

  it('worker X, then (after a policy and directory change) worker Y: both archive into the one shared store', async () => {
    const x = await startWorker(dirs.x);
    phase.x = await twoAttempts('order-1001');
    await archived(phase.x);
    await x.shutdown();

    // A new policy bundle and directory version: only the shared store keeps the ones X ran with.
    plane.setPolicy(
      'audit-note.cedar',
      `@id("refunds.never-negative") forbid (principal, action, resource) when { context.parameters has amount && context.parameters.amount < 0 };\n`,
    );
    plane.editDirectory((d) => {
      // A new directory version (its digest covers every field), with the same keys and groups.
      (d.humans.alice as { name?: string }).name = 'Alice (Finance, EU)';
    });
    const y = await startWorker(dirs.y);
    phase.y = await twoAttempts('order-1003');
    await archived(phase.y);
    await y.shutdown();

    // Nothing split into the workers' own data dirs.
    for (const dir of Object.values(dirs))
      for (const sub of ['archive', 'policy-bundles', 'directories', 'code-identities'])
        expect(existsSync(join(dir, sub)), `${dir}/${sub}`).toBe(false);
  });

  it("any attempt exports and verifies from either side's data dir, through the shared store only", async () => {
    for (const side of ['x', 'y'] as const) {
      const files = await exportAndVerify(ecp, dirs[side], [phase.x[1]!, phase.y[1]!], { ECP_DATA_DIR: dirs[side], ECP_STORE_URL: url });
      expect(readFileSync(files[0]!, 'utf8')).toContain(phase.x[1]!);
    }
    // The control: without the shared store, Y's side lacks the bundle X ran with (the split this store prevents).
    const split = await runEcp(plane, ['audit', 'export', phase.x[1]!, '-o', join(dirs.y, 'split.json')], {
      env: { ECP_DATA_DIR: dirs.y, ECP_STORE_URL: '' },
    });
    expect(split.code).not.toBe(0);
    expect(split.stderr).toMatch(/policy bundle sha256:[0-9a-f]+ .* is neither the configured bundle nor in/);
  }, 600_000);

  it('`ecp audit verify --archive` from either side sees one unbroken chain with the entries of both workers', async () => {
    for (const dir of Object.values(dirs)) {
      const result = await verifyArchiveFrom(ecp, { ECP_DATA_DIR: dir, ECP_STORE_URL: url });
      expect(result.location).toContain('/ecp_shared');
    }
    const ids = (await archiveEntries(url)).map((e) => e.attemptId);
    for (const id of [...phase.x, ...phase.y]) expect(ids).toContain(id);
  }, 600_000);

  it('concurrent sealers on three connections never fork the chain nor seal an attempt twice', async () => {
    const fresh = await pg.createDatabase('ecp_race');
    const stores = [new PostgresStore(fresh), new PostgresStore(fresh), new PostgresStore(fresh)];
    const kept = new PostgresStore(url); // the bundles the workers kept
    try {
      const ids = [...phase.x, ...phase.y];
      const results = await Promise.all(
        stores.flatMap((store) => ids.map((id) => sealAttempt(new Archive(store), plane.ecp, id, { kept }).then((r) => r.outcome))),
      );
      expect(results.filter((r) => r === 'sealed')).toHaveLength(ids.length);
      const verified = await verifyArchive('', { store: stores[0]!, replay: false });
      expect(verified.problems).toEqual([]);
      expect(verified.entries).toBe(ids.length);
    } finally {
      await Promise.all([...stores, kept].map((s) => s.close()));
    }
  });
});
