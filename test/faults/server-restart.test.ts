import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRecord, AttemptStatus, ProposalInput } from '../../common';
import { startFaultPlane, type FaultPlane } from './helpers/faultPlane';
import { pool, sleep, until, writeReliability } from './helpers/report';
import { decision, deployOn, op, tally, type Started } from './helpers/scenarios';

const PER_KIND = Number(process.env.ECP_FAULTS_PER_KIND ?? 12);
/** Longer than the 25 s `faults.short` deadline, so those deadlines pass while the server is down. */
const DOWN_MS = 30_000;

let plane: FaultPlane;
beforeAll(async () => {
  plane = await startFaultPlane();
  await plane.startWorker();
}, 240_000);
afterAll(async () => plane?.teardown());

interface Kind {
  kind: string;
  expected: AttemptStatus;
  proposal: () => ProposalInput;
}

describe('stop and restart of the file-backed dev server mid-wait', () => {
  it('pending attempts, accepted decisions and deadlines survive; approvals after the restart complete them; passed deadlines expire', async () => {
    const kinds: Kind[] = [
      { kind: 'pending, approved after restart', expected: 'SUCCEEDED', proposal: () => op('ok', 'approve') },
      { kind: 'pending, rejected after restart', expected: 'REJECTED', proposal: () => op('ok', 'approve') },
      { kind: 'deploy: 1 of 2 approvals before, 1 after', expected: 'SUCCEEDED', proposal: () => deployOn(plane) },
      { kind: 'deadline passes while the server is down', expected: 'EXPIRED', proposal: () => op('ok', 'short') },
    ];
    const started0 = Date.now();
    const started = await pool(
      kinds.flatMap((k) => Array.from({ length: PER_KIND }, () => k)),
      8,
      async (k): Promise<Started> => ({ kind: k.kind, expected: k.expected, ...(await plane.ecp.propose(k.proposal())) }),
    );
    const before = new Map<string, AttemptRecord>();
    await pool(started, 8, async (a) =>
      until(
        async () => {
          const record = await plane.ecp.getRecord(a.attemptId);
          before.set(a.attemptId, record);
          return record.status === 'AWAITING_DECISION';
        },
        120_000,
        `${a.attemptId} awaiting`,
      ),
    );
    const of = (kind: string) => started.filter((a) => a.kind === kind);
    const deploys = of('deploy: 1 of 2 approvals before, 1 after');
    for (const a of deploys) expect((await plane.ecp.submitDecision(a.attemptId, decision(plane, a, 'bob'))).accepted).toBe(true);
    for (const a of deploys) before.set(a.attemptId, await plane.ecp.getRecord(a.attemptId));

    // Graceful stop (SIGTERM): what an operator's restart does. The worker keeps running and must reconnect.
    const stoppedAt = Date.now();
    await plane.stopServer();
    await sleep(DOWN_MS);
    await plane.startServer();
    const downSeconds = Math.round((Date.now() - stoppedAt) / 1000);

    // Survived: still awaiting, same deadline, same accepted decisions (read back through the worker's query).
    const survivors = started.filter((a) => a.expected !== 'EXPIRED');
    const intact = await pool(survivors, 8, async (a) => {
      let record: AttemptRecord | undefined;
      await until(
        async () => {
          record = await plane.ecp.getRecord(a.attemptId).catch(() => undefined);
          return record !== undefined;
        },
        120_000,
        `${a.attemptId} readable after the restart`,
      );
      const was = before.get(a.attemptId)!;
      return (
        record!.status === 'AWAITING_DECISION' &&
        record!.deadline === was.deadline &&
        JSON.stringify(record!.decisions.accepted) === JSON.stringify(was.decisions.accepted)
      );
    });

    await pool(of('pending, approved after restart'), 8, (a) => plane.ecp.submitDecision(a.attemptId, decision(plane, a, 'alice')));
    await pool(of('pending, rejected after restart'), 8, (a) =>
      plane.ecp.submitDecision(a.attemptId, decision(plane, a, 'alice', 'reject')),
    );
    await pool(deploys, 8, (a) => plane.ecp.submitDecision(a.attemptId, decision(plane, a, 'erin')));

    const records = new Map<string, AttemptRecord>();
    await pool(started, 16, async (a) => void records.set(a.attemptId, await plane.ecp.awaitOutcome(a.attemptId)));
    // An expired attempt's deadline is the one set before the outage, and it closed only after the restart.
    const expiredLate = of('deadline passes while the server is down').filter((a) => {
      const r = records.get(a.attemptId)!;
      const expiredAt = Date.parse(r.timeline.at(-1)!.at);
      return r.deadline === before.get(a.attemptId)!.deadline && expiredAt >= Date.parse(r.deadline!);
    }).length;
    const rows = tally(started, records, plane);
    writeReliability('server-restart', {
      fault: 'file-backed dev server stopped (SIGTERM) mid-wait and restarted on the same database',
      command: 'npm run test:faults -- test/faults/server-restart.test.ts',
      serverDownSeconds: downSeconds,
      tried: started.length,
      survived: rows.reduce((n, r) => n + r.survived, 0),
      lost: rows.reduce((n, r) => n + r.lost, 0),
      duplicatedEffects: rows.reduce((n, r) => n + r.duplicatedEffects, 0),
      missingEffects: rows.reduce((n, r) => n + r.missingEffects, 0),
      waitingIntactAfterRestart: `${intact.filter(Boolean).length}/${survivors.length}`,
      expiredWithOriginalDeadline: `${expiredLate}/${PER_KIND}`,
      seconds: Math.round((Date.now() - started0) / 1000),
      kinds: rows,
    });
    expect(intact.every(Boolean)).toBe(true);
    expect(expiredLate).toBe(PER_KIND);
    for (const row of rows) expect(row, row.kind).toMatchObject({ survived: row.tried, lost: 0, duplicatedEffects: 0, missingEffects: 0 });
    for (const a of deploys) expect(records.get(a.attemptId)!.decisions.accepted.map((d) => d.human)).toEqual(['bob', 'erin']);
  });
});
