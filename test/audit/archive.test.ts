/**
 * The evidence archive on a real dev server: the archiver workflow seals closed attempts by itself, sealing is
 * idempotent and race-free, and `verifyArchive` names exactly what was deleted, altered or reordered.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../audit/archive/archive';
import { archiverStatus, ensureArchiver, wakeArchiver } from '../../audit/archive/archiverControl';
import { listClosedAttempts, sealAttempt } from '../../audit/archive/sealer';
import { exportEvidencePack } from '../../audit/pack/export';
import { verifyArchive, type ArchiveVerification } from '../../audit/archive/verify';
import { ARCHIVER_WORKFLOW_ID } from '../../workflows/archiver';
import { createPlaneWorker } from '../../worker/plane';
import { idleTelemetrySinks, prebundleWorkflows } from '../../workflows/bundle';
import { refund } from '../helpers/attempts';
import { eventually as poll } from '../helpers/eventually';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { runAuditScenario, type AuditScenario } from './archiveFixtures';

let plane: TestPlane;
let worker: Worker;
let running: Promise<void>;
let archiveDir: string;
let scenario: AuditScenario;
let scratch: string;

beforeAll(async () => {
  plane = await startTestPlane();
  // The plane's worker again, now with an archive: the archiver's activity runs in it.
  await plane.stopWorker();
  archiveDir = join(plane.dataDir, 'archive');
  worker = await createPlaneWorker({
    connection: plane.env.nativeConnection,
    namespace: 'default',
    runtime: plane.runtime,
    planeKey: plane.planeKey,
    archive: { archive: Archive.local(archiveDir), dataDir: plane.dataDir },
  });
  running = worker.run();
  scratch = mkdtempSync(join(tmpdir(), 'ecp-archive-test-'));
  scenario = await runAuditScenario(plane);
});

afterAll(async () => {
  await plane?.ecp.client.workflow
    .getHandle(ARCHIVER_WORKFLOW_ID)
    .terminate('test over')
    .catch(() => {});
  worker?.shutdown();
  await running?.catch(() => {});
  await plane?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// The archiver seals in batches: a minute's patience.
const eventually = <T>(what: string, check: () => Promise<T | undefined>) => poll(what, check, 60_000, 250);

const allIds = () => [scenario.autoAllowed, scenario.denied, scenario.approved, scenario.rejected, scenario.staging, scenario.production];

/** A copy of the archive to damage, so each tamper test starts from the intact one. */
function copyArchive(name: string): string {
  const dir = join(scratch, name);
  cpSync(archiveDir, dir, { recursive: true });
  return dir;
}
const entryFile = (dir: string, seq: number) => join(dir, 'index', `${String(seq).padStart(12, '0')}.json`);
const kinds = (v: ArchiveVerification) => v.problems.map((p) => `${p.kind}@${p.seq}`).sort();

describe('archiver workflow', () => {
  it('seals every closed attempt by itself — allowed, denied, approved, rejected — and the archive verifies with replay', async () => {
    const started = await ensureArchiver(plane.ecp.client, { intervalSeconds: 1, overlapSeconds: 60 });
    expect(started).toBe(true);
    expect(await ensureArchiver(plane.ecp.client, { intervalSeconds: 1 })).toBe(false); // singleton
    const archive = Archive.local(archiveDir);
    const entries = await eventually('all scenario attempts archived', async () => {
      const list = await archive.entries();
      return allIds().every((id) => list.some((e) => e.attemptId === id)) ? list : undefined;
    });
    expect(new Set(entries.map((e) => e.attemptId))).toEqual(new Set(allIds()));
    const byId = Object.fromEntries(entries.map((e) => [e.attemptId, e.summary]));
    expect(byId[scenario.denied]).toMatchObject({ status: 'DENIED', adviceVerdict: 'deny' });
    expect(byId[scenario.rejected]).toMatchObject({ status: 'REJECTED', decisions: [{ human: 'alice', verdict: 'reject' }] });
    expect(byId[scenario.production]?.decisions.map((d) => d.human).sort()).toEqual(['bob', 'erin']);
    expect(byId[scenario.autoAllowed]).toMatchObject({
      status: 'SUCCEEDED',
      adviceVerdict: 'allow',
      recordDigest: scenario.records[scenario.autoAllowed]!.digest,
    });

    const status = await eventually('archiver status', async () =>
      ((await archiverStatus(plane.ecp.client))?.totals.sealed ?? 0) >= 6 ? archiverStatus(plane.ecp.client) : undefined,
    );
    expect(status?.watermark).not.toBeNull();

    const verified = await verifyArchive(archiveDir);
    expect(verified.problems).toEqual([]);
    expect(verified).toMatchObject({ ok: true, entries: 6, packsVerified: 6, replayed: true });
  });

  it('seals an attempt that closes while it runs, without re-sealing the others', async () => {
    const { attemptId } = await plane.ecp.propose(refund(300, 'order-1001'));
    await plane.ecp.awaitOutcome(attemptId);
    await wakeArchiver(plane.ecp.client);
    const archive = Archive.local(archiveDir);
    const entry = await eventually('new attempt archived', async () => (await archive.entries()).find((e) => e.attemptId === attemptId));
    expect(entry.seq).toBe(7);
    const entries = await archive.entries();
    expect(entries).toHaveLength(7);
    expect(new Set(entries.map((e) => e.attemptId)).size).toBe(7);
  });
});

describe('sealing', () => {
  it('is idempotent, and concurrent sealers in different processes cannot fork the chain or seal twice', async () => {
    const dir = join(scratch, 'concurrent');
    const ids = allIds();
    // Independent Archive instances = independent index caches, like separate processes on one directory.
    const sealers = [Archive.local(dir), Archive.local(dir), Archive.local(dir)];
    const results = await Promise.all(
      sealers.flatMap((a, i) => [...ids].sort(() => (i % 2 ? 1 : -1)).map((id) => sealAttempt(a, plane.ecp, id))),
    );
    expect(results.filter((r) => r.outcome === 'sealed')).toHaveLength(ids.length);
    const again = await sealAttempt(Archive.local(dir), plane.ecp, scenario.denied);
    expect(again.outcome).toBe('already');
    const verified = await verifyArchive(dir, { replay: false });
    expect(verified.problems).toEqual([]);
    expect(verified.entries).toBe(ids.length);
  });

  it('refuses to seal an attempt that is still open', async () => {
    const { attemptId } = await plane.ecp.propose(refund(9000, 'order-1001'));
    await expect(sealAttempt(Archive.local(join(scratch, 'open')), plane.ecp, attemptId)).rejects.toThrow(/still open/);
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('CANCELLED');
  });
});

describe('verifyArchive detects tampering precisely', () => {
  beforeAll(async () => {
    // Hold the archive still: wait until the archiver has sealed everything closed so far, then stop it.
    await eventually('every closed attempt archived', async () => {
      const closed = (await listClosedAttempts(plane.ecp.client, null)).map((c) => c.attemptId);
      const sealed = new Set((await Archive.local(archiveDir).entries()).map((e) => e.attemptId));
      return closed.every((id) => sealed.has(id)) ? true : undefined;
    });
    await plane.ecp.client.workflow.getHandle(ARCHIVER_WORKFLOW_ID).terminate('archive held still for tamper tests');
  });
  const entryOf = async (dir: string, attemptId: string) => (await Archive.local(dir).entries()).find((e) => e.attemptId === attemptId)!;

  it('a deleted pack', async () => {
    const dir = copyArchive('deleted-pack');
    const entry = await entryOf(dir, scenario.rejected);
    unlinkSync(join(dir, 'objects', 'sha256', entry.object.sha256));
    const v = await verifyArchive(dir, { replay: false });
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'object_missing', seq: entry.seq, attemptId: scenario.rejected })]);
  });

  it('an altered pack (one byte of the parameters)', async () => {
    const dir = copyArchive('altered-pack');
    const entry = await entryOf(dir, scenario.approved);
    const path = join(dir, 'objects', 'sha256', entry.object.sha256);
    writeFileSync(path, readFileSync(path, 'utf8').replace('"amount":7500', '"amount":7509'));
    const v = await verifyArchive(dir, { replay: false });
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'object_altered', seq: entry.seq, attemptId: scenario.approved })]);
  });

  it('a removed index entry', async () => {
    const dir = copyArchive('removed-entry');
    unlinkSync(entryFile(dir, 3));
    const v = await verifyArchive(dir, { replay: false });
    expect(kinds(v)).toEqual(['entry_missing@3']);
    expect(v.notes.join('\n')).toMatch(/is in no index entry/); // its pack is now an orphan
  });

  it('reordered index entries', async () => {
    const dir = copyArchive('reordered');
    renameSync(entryFile(dir, 2), join(dir, 'swap'));
    renameSync(entryFile(dir, 4), entryFile(dir, 2));
    renameSync(join(dir, 'swap'), entryFile(dir, 4));
    const v = await verifyArchive(dir, { replay: false });
    expect(kinds(v)).toEqual(['entry_misplaced@2', 'entry_misplaced@4']);
  });

  it('an edited index entry, and an entry rewritten with a fresh hash', async () => {
    const dir = copyArchive('edited-entry');
    const file = entryFile(dir, 4);
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace(/"status":"[A-Z_]+"/, '"status":"SUCCEEDED"').replace(/"human":"[a-z]+"/, '"human":"mallory"'));
    const v = await verifyArchive(dir, { replay: false });
    expect(kinds(v)).toContain('entry_altered@4');

    // A forger who recomputes the entry's hash breaks the next link instead.
    const { entryHash } = await import('../../audit/archive/entry');
    const entry = JSON.parse(original) as Parameters<typeof entryHash>[0] & { sealedAt: string; hash: string };
    entry.sealedAt = '2000-01-01T00:00:00.000Z';
    entry.hash = entryHash(entry);
    writeFileSync(file, JSON.stringify(entry));
    const rewritten = await verifyArchive(dir, { replay: false });
    expect(kinds(rewritten)).toEqual(['chain_broken@5']);
  });

  it('a cut-off tail, given a checkpoint of the head', async () => {
    const dir = copyArchive('truncated');
    const intact = await verifyArchive(dir, { replay: false });
    const checkpoint = `${intact.head!.seq}:${intact.head!.hash}`;
    unlinkSync(entryFile(dir, intact.head!.seq));
    const withoutCheckpoint = await verifyArchive(dir, { replay: false });
    expect(withoutCheckpoint.problems).toEqual([]); // a chain alone cannot see its newest entry go
    const v = await verifyArchive(dir, { replay: false, checkpoint });
    expect(kinds(v)).toEqual([`checkpoint_mismatch@${intact.head!.seq}`]);
  });

  it('a pack that was sealed with a forged record (the archive keeps it intact, but the pack itself fails verifyPack)', async () => {
    const dir = join(scratch, 'forged-pack');
    const pack = await exportEvidencePack(plane.ecp, scenario.approved);
    pack.parts.record.proposal.parameters.amount = 750;
    await Archive.local(dir).seal(scenario.approved, async () => pack);
    const v = await verifyArchive(dir, { replay: false });
    expect(v.problems).toEqual([
      expect.objectContaining({
        kind: 'pack_invalid',
        seq: 1,
        attemptId: scenario.approved,
        message: expect.stringMatching(/digest\.record/),
      }),
    ]);
  });

  it("the archiver's own history replays deterministically against the workflow code", async () => {
    const history = await plane.ecp.client.workflow.getHandle(ARCHIVER_WORKFLOW_ID).fetchHistory();
    expect(history.events?.length).toBeGreaterThan(10);
    await Worker.runReplayHistory(
      { workflowBundle: await prebundleWorkflows(), sinks: idleTelemetrySinks() },
      history,
      ARCHIVER_WORKFLOW_ID,
    );
  });

  it('lists nothing unexpected in an intact archive', async () => {
    const v = await verifyArchive(archiveDir, { replay: false });
    expect(v.ok).toBe(true);
    expect(readdirSync(join(archiveDir, 'tmp'))).toEqual([]);
  });
});
