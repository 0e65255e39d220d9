import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideUpdate, decisionSignal, type AttemptRecord, type AttemptStatus, type ProposalInput } from '../../common';
import { startFaultPlane, type FaultPlane } from './helpers/faultPlane';
import { pool, until, writeReliability } from './helpers/report';
import { decision, deployOn, op, refundOn, tally, type Started } from './helpers/scenarios';

const PER_KIND = Number(process.env.ECP_FAULTS_PER_KIND ?? 12);

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
  waits: boolean;
}

describe('kill -9 of the worker process', () => {
  it('every attempt reaches its correct terminal state and each side effect is applied exactly once', async () => {
    const waiting: Kind[] = [
      { kind: 'refund approved', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 7_500), waits: true },
      { kind: 'refund rejected', expected: 'REJECTED', proposal: () => refundOn(plane, 7_500), waits: true },
      { kind: 'refund cancelled', expected: 'CANCELLED', proposal: () => refundOn(plane, 7_500), waits: true },
      { kind: 'deploy, 2 approvals', expected: 'SUCCEEDED', proposal: () => deployOn(plane), waits: true },
      { kind: 'approved, slow executor', expected: 'SUCCEEDED', proposal: () => op('slowok', 'approve'), waits: true },
      { kind: 'expires (25 s deadline)', expected: 'EXPIRED', proposal: () => op('ok', 'short'), waits: true },
    ];
    const immediate: Kind[] = [
      { kind: 'refund automatic', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 2_000), waits: false },
      { kind: 'refund denied', expected: 'DENIED', proposal: () => refundOn(plane, 9_000, 5_000), waits: false },
      { kind: 'slow executor in flight', expected: 'SUCCEEDED', proposal: () => op('slowok', 'auto'), waits: false },
      { kind: 'fast executor', expected: 'SUCCEEDED', proposal: () => op('ok', 'auto'), waits: false },
      { kind: 'target answers 400', expected: 'FAILED', proposal: () => op('400', 'auto'), waits: false },
    ];
    const propose = async (kinds: Kind[]) =>
      pool(
        kinds.flatMap((k) => Array.from({ length: PER_KIND }, () => k)),
        8,
        async (k): Promise<Started> => ({ kind: k.kind, expected: k.expected, ...(await plane.ecp.propose(k.proposal())) }),
      );
    const started0 = Date.now();
    // Attempts that wait for a human first, so decisions can be sent while the worker is dead.
    const awaiting = await propose(waiting);
    await pool(awaiting, 8, (a) =>
      until(async () => (await plane.ecp.getRecord(a.attemptId)).status === 'AWAITING_DECISION', 120_000, `${a.attemptId} awaiting`),
    );
    const running = await propose(immediate);

    // Kill 1: while executors are in flight (the slow executor holds its request for 2.5 s after applying the effect).
    await until(() => plane.faults.inFlight() > 0, 60_000, 'an executor call in flight');
    const inFlightAtKill1 = plane.faults.inFlight();
    await plane.killWorker();

    const of = (kind: string) => awaiting.filter((a) => a.kind === kind);
    const half = <T>(list: T[]) => [list.slice(0, list.length / 2), list.slice(list.length / 2)] as const;
    const handle = (a: Started) => plane.ecp.client.workflow.getHandle(a.attemptId);
    const [approveEarly, approveLate] = half(of('refund approved'));
    const [rejectEarly, rejectLate] = half(of('refund rejected'));
    // No worker: signals and cancellations wait in history.
    for (const a of approveEarly) await handle(a).signal(decisionSignal, decision(plane, a, 'alice'));
    for (const a of rejectEarly) await handle(a).signal(decisionSignal, decision(plane, a, 'alice', 'reject'));
    for (const a of of('deploy, 2 approvals')) await handle(a).signal(decisionSignal, decision(plane, a, 'bob'));
    for (const a of of('refund cancelled')) await handle(a).cancel();

    await plane.startWorker();
    // Updates need a worker: the rest of the decisions arrive after the restart.
    const update = (a: Started, human: string, verdict: 'approve' | 'reject' = 'approve') =>
      handle(a).executeUpdate(decideUpdate, { args: [decision(plane, a, human, verdict)] });
    await pool([...approveLate, ...of('deploy, 2 approvals')], 8, (a) => update(a, a.kind.startsWith('deploy') ? 'erin' : 'alice'));
    await pool(rejectLate, 8, (a) => update(a, 'alice', 'reject'));
    const slow = of('approved, slow executor');
    await pool(slow, 8, (a) => update(a, 'alice'));

    // Kill 2: while the approved slow executors are in flight.
    await until(() => plane.faults.inFlight() > 0, 60_000, 'an approved executor in flight');
    const inFlightAtKill2 = plane.faults.inFlight();
    await plane.killWorker();
    await plane.startWorker();

    const all = [...awaiting, ...running];
    const records = new Map<string, AttemptRecord>();
    await pool(all, 16, async (a) => void records.set(a.attemptId, await plane.ecp.awaitOutcome(a.attemptId)));
    const rows = tally(all, records, plane);
    const reExecuted = [...running, ...slow].filter(
      (a) => a.kind.includes('slow') && (plane.faults.requests.get(a.attemptId) ?? 0) > 1,
    ).length;
    writeReliability('worker-crash', {
      fault: 'kill -9 of the worker process (twice), restart',
      command: 'npm run test:faults -- test/faults/worker-crash.test.ts',
      kills: 2,
      executorCallsInFlightAtKills: [inFlightAtKill1, inFlightAtKill2],
      executorCallsRepeatedAfterCrash: reExecuted,
      tried: all.length,
      survived: rows.reduce((n, r) => n + r.survived, 0),
      lost: rows.reduce((n, r) => n + r.lost, 0),
      duplicatedEffects: rows.reduce((n, r) => n + r.duplicatedEffects, 0),
      missingEffects: rows.reduce((n, r) => n + r.missingEffects, 0),
      seconds: Math.round((Date.now() - started0) / 1000),
      kinds: rows,
    });
    expect(inFlightAtKill1).toBeGreaterThan(0);
    expect(inFlightAtKill2).toBeGreaterThan(0);
    for (const row of rows) expect(row, row.kind).toMatchObject({ survived: row.tried, lost: 0, duplicatedEffects: 0, missingEffects: 0 });
    // Accepted decisions are exactly the ones sent: none lost in the crashes, none counted twice.
    for (const a of of('deploy, 2 approvals'))
      expect(records.get(a.attemptId)!.decisions.accepted.map((d) => d.human)).toEqual(['bob', 'erin']);
  });
});
