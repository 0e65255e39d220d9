import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionSignal, type AttemptRecord, type AttemptStatus, type ProposalInput } from '../../common';
import type { LocalCluster } from '../../worker/cluster/cluster';
import { pool, sleep, until, writeReliability } from '../faults/helpers/report';
import { decision, deployOn, op, refundOn, tally, type Started } from '../faults/helpers/scenarios';
import { currentCluster } from '../helpers/cluster';
import { startClusterPlane, type ClusterPlane } from './helpers/clusterPlane';

const PER_KIND = Number(process.env.ECP_CLUSTER_FAULTS_PER_KIND ?? 6);

let cluster: LocalCluster;
let plane: ClusterPlane;
const figures: Record<string, unknown> = {};
beforeAll(async () => {
  cluster = currentCluster();
  plane = await startClusterPlane(cluster.address);
  await Promise.all([plane.startWorker(0), plane.startWorker(1)]);
}, 240_000);
afterAll(async () => {
  await plane?.teardown();
  if (Object.keys(figures).length > 0)
    writeReliability('cluster', {
      fault: 'faults on a Temporal cluster on PostgreSQL (frontend, matching, worker, 2 history processes, 4 shards)',
      command: 'npm run test:cluster',
      ...figures,
    });
});

interface Kind {
  kind: string;
  expected: AttemptStatus;
  proposal: () => ProposalInput;
}

const propose = (kinds: Kind[]) =>
  pool(
    kinds.flatMap((k) => Array.from({ length: PER_KIND }, () => k)),
    8,
    async (k): Promise<Started> => ({ kind: k.kind, expected: k.expected, ...(await plane.ecp.propose(k.proposal())) }),
  );
const awaiting = (attempts: Started[]) =>
  pool(attempts, 8, (a) =>
    until(async () => (await plane.ecp.getRecord(a.attemptId)).status === 'AWAITING_DECISION', 120_000, `${a.attemptId} awaiting`),
  );
const handle = (a: Started) => plane.ecp.client.workflow.getHandle(a.attemptId);
/**
 * A decision signal, sent again should the server answer DEADLINE_EXCEEDED while shards move (Temporal's client retries
 * UNAVAILABLE, not that). A copy that did arrive twice is refused as a duplicate in the record, never counted twice.
 */
async function signal(a: Started, human: string, verdict: 'approve' | 'reject' = 'approve') {
  const signed = decision(plane, a, human, verdict);
  for (let tries = 1; ; tries++) {
    try {
      return await handle(a).signal(decisionSignal, signed);
    } catch (err) {
      if (tries >= 5 || (err as { cause?: { code?: number } }).cause?.code !== 4) throw err;
      await sleep(500);
    }
  }
}
/** Through the client library, as `ecp approve` sends it: it retries an update whose answer a moving shard lost. */
async function update(a: Started, human: string, verdict: 'approve' | 'reject' = 'approve') {
  const answer = await plane.ecp.submitDecision(a.attemptId, decision(plane, a, human, verdict));
  expect(answer, `${verdict} by ${human} on ${a.attemptId}`).toMatchObject({ accepted: true });
}
const half = <T>(list: T[]) => [list.slice(0, Math.ceil(list.length / 2)), list.slice(Math.ceil(list.length / 2))] as const;

/** Waits for every outcome, counts effects at the targets, records the figures and checks them. */
async function settle(name: string, fault: string, all: Started[], started: number, extra: Record<string, unknown> = {}) {
  const records = new Map<string, AttemptRecord>();
  await pool(all, 16, async (a) => void records.set(a.attemptId, await plane.ecp.awaitOutcome(a.attemptId)));
  const rows = tally(all, records, plane);
  const summary = {
    fault,
    tried: all.length,
    survived: rows.reduce((n, r) => n + r.survived, 0),
    lost: rows.reduce((n, r) => n + r.lost, 0),
    duplicatedEffects: rows.reduce((n, r) => n + r.duplicatedEffects, 0),
    missingEffects: rows.reduce((n, r) => n + r.missingEffects, 0),
    seconds: Math.round((Date.now() - started) / 1000),
    ...extra,
    kinds: rows,
  };
  figures[name] = summary;
  console.log(`[cluster faults] ${name}: ${JSON.stringify({ ...summary, kinds: undefined })}`);
  for (const row of rows) expect(row, row.kind).toMatchObject({ survived: row.tried, lost: 0, duplicatedEffects: 0, missingEffects: 0 });
  return records;
}

describe('faults on the Temporal cluster', () => {
  it('two ECP worker processes: one killed (kill -9) under load, the other finishes every attempt exactly once', async () => {
    const started = Date.now();
    const waiting = await propose([
      { kind: 'refund approved', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'refund rejected', expected: 'REJECTED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'approved, slow executor', expected: 'SUCCEEDED', proposal: () => op('slowok', 'approve') },
    ]);
    await awaiting(waiting);
    const running = await propose([
      { kind: 'refund automatic', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 2_000) },
      { kind: 'refund denied', expected: 'DENIED', proposal: () => refundOn(plane, 9_000, 5_000) },
      { kind: 'slow executor in flight', expected: 'SUCCEEDED', proposal: () => op('slowok', 'auto') },
      { kind: 'fast executor', expected: 'SUCCEEDED', proposal: () => op('ok', 'auto') },
    ]);
    // Under load: executor calls in flight on the workers when one process dies.
    await until(() => plane.faults.inFlight() > 0, 60_000, 'an executor call in flight');
    const inFlightAtKill = plane.faults.inFlight();
    await plane.killWorker(0);
    // Decisions while one process is dead: updates need a worker, and the survivor takes them.
    const of = (kind: string) => waiting.filter((a) => a.kind === kind);
    await pool([...of('refund approved'), ...of('approved, slow executor')], 8, (a) => update(a, 'alice'));
    await pool(of('refund rejected'), 8, (a) => update(a, 'alice', 'reject'));
    const all = [...waiting, ...running];
    await settle('workerKill', 'kill -9 of one of two ECP worker processes under load', all, started, {
      workerProcesses: 2,
      executorCallsInFlightAtKill: inFlightAtKill,
      executorCallsRepeated: all.filter((a) => a.kind.includes('slow') && (plane.faults.requests.get(a.attemptId) ?? 0) > 1).length,
    });
    expect(inFlightAtKill).toBeGreaterThan(0);
    await plane.startWorker(0);
  });

  it('a history process stopped mid-wait and restarted: the other takes its shards, no attempt lost or run twice', async () => {
    const started = Date.now();
    const waiting = await propose([
      { kind: 'refund approved', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'refund rejected', expected: 'REJECTED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'deploy, 2 approvals', expected: 'SUCCEEDED', proposal: () => deployOn(plane) },
      { kind: 'expires (20 s deadline)', expected: 'EXPIRED', proposal: () => op('ok', 'short') },
    ]);
    await awaiting(waiting);
    const of = (kind: string) => waiting.filter((a) => a.kind === kind);
    const [approveEarly, approveLate] = half(of('refund approved'));
    const [rejectEarly, rejectLate] = half(of('refund rejected'));

    await cluster.stopService('history-1');
    const pidsWhileDown = cluster.pids();
    // Decisions while one history process is down: its shards move to the other (≈2 s); the client retries meanwhile.
    await pool(approveEarly, 8, (a) => signal(a, 'alice'));
    await pool(rejectEarly, 8, (a) => signal(a, 'alice', 'reject'));
    await pool(of('deploy, 2 approvals'), 8, (a) => signal(a, 'bob'));
    await sleep(2_000);
    await cluster.startService('history-1');
    await pool([...approveLate, ...of('deploy, 2 approvals')], 8, (a) => update(a, a.kind.startsWith('deploy') ? 'erin' : 'alice'));
    await pool(rejectLate, 8, (a) => update(a, 'alice', 'reject'));
    const records = await settle('historyRestart', 'one of two history processes stopped mid-wait, then restarted', waiting, started);
    expect(Object.keys(pidsWhileDown)).not.toContain('history-1');
    for (const a of of('deploy, 2 approvals'))
      expect(records.get(a.attemptId)!.decisions.accepted.map((d) => d.human)).toEqual(['bob', 'erin']);
  });

  it('PostgreSQL restarted mid-wait: decisions sent across the outage count once, deadlines still fire', async () => {
    const started = Date.now();
    const waiting = await propose([
      { kind: 'refund approved', expected: 'SUCCEEDED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'refund rejected', expected: 'REJECTED', proposal: () => refundOn(plane, 7_500) },
      { kind: 'expires (20 s deadline)', expected: 'EXPIRED', proposal: () => op('ok', 'short') },
    ]);
    await awaiting(waiting);
    const of = (kind: string) => waiting.filter((a) => a.kind === kind);
    const [approveEarly, approveLate] = half(of('refund approved'));
    const servers = cluster.pids();

    await cluster.postgres.stop();
    // Sent while the database is down: the server cannot persist them yet; the client retries until it can.
    const acrossOutage = pool(approveEarly, 8, (a) => signal(a, 'alice'));
    const outageStarted = Date.now();
    await sleep(3_000);
    await cluster.postgres.start();
    const outageMs = Date.now() - outageStarted;
    await acrossOutage;
    await pool(approveLate, 8, (a) => update(a, 'alice'));
    await pool(of('refund rejected'), 8, (a) => update(a, 'alice', 'reject'));
    await settle('postgresRestart', 'PostgreSQL stopped (fast shutdown) mid-wait for ≈3 s, then started', waiting, started, {
      outageMs,
    });
    // The Temporal processes rode out the outage: none exited or was replaced.
    expect(cluster.pids()).toEqual(servers);
  });
});
