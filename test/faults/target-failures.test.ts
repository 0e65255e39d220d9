import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptRecord, ProposalInput } from '../../common';
import { FAULT_RETRY, FAULT_TIMEOUT_SECONDS, startFaultPlane, type FaultPlane } from './helpers/faultPlane';
import { pool, until, writeReliability } from './helpers/report';
import { op, refused } from './helpers/scenarios';

const PER_KIND = Number(process.env.ECP_FAULTS_PER_KIND ?? 6);
const TRIES = FAULT_RETRY.maximumAttempts;

let plane: FaultPlane;
beforeAll(async () => {
  plane = await startFaultPlane();
  await plane.startWorker();
}, 240_000);
afterAll(async () => plane?.teardown());

interface Case {
  fault: string;
  proposal: () => ProposalInput;
  status: 'SUCCEEDED' | 'FAILED';
  /** Requests the target must see per attempt (null: connection refused, nothing reaches a target). */
  requests: number | null;
  /** Requests the caller abandoned (timed out and aborted) per attempt. */
  abandoned: number;
  reason?: RegExp;
  errorType?: string;
}

// Expectations follow the fault action type: 3 tries, 1 s apart, 5 s start-to-close timeout, no heartbeats.
const cases: Case[] = [
  {
    fault: 'target answers 5xx every time',
    proposal: () => op('500', 'auto'),
    status: 'FAILED',
    requests: TRIES,
    abandoned: 0,
    reason: /answered 503/,
    errorType: 'Error',
  },
  { fault: 'target answers 5xx twice, then succeeds', proposal: () => op('flaky', 'auto'), status: 'SUCCEEDED', requests: 3, abandoned: 0 },
  {
    fault: 'target answers 4xx (non-retryable)',
    proposal: () => op('400', 'auto'),
    status: 'FAILED',
    requests: 1,
    abandoned: 0,
    reason: /answered 400/,
    errorType: 'HttpStatusError',
  },
  {
    fault: 'connection refused',
    proposal: refused,
    status: 'FAILED',
    requests: null,
    abandoned: 0,
    reason: /ECONNREFUSED/,
    errorType: 'Error',
  },
  {
    fault: `target never answers (timeout ${FAULT_TIMEOUT_SECONDS}s)`,
    proposal: () => op('hang', 'auto'),
    status: 'FAILED',
    requests: TRIES,
    abandoned: TRIES,
    reason: /timeout/i,
  },
  { fault: 'slow target within the timeout (2.5 s)', proposal: () => op('slowok', 'auto'), status: 'SUCCEEDED', requests: 1, abandoned: 0 },
];

describe('the target fails', () => {
  it('retries per the action type retry policy, then FAILED with the reason; 4xx fails fast; a hung call is aborted at the timeout', async () => {
    const started0 = Date.now();
    const attempts = await pool(
      cases.flatMap((c) => Array.from({ length: PER_KIND }, () => c)),
      8,
      async (c) => ({ c, ...(await plane.ecp.propose(c.proposal())) }),
    );
    const records = new Map<string, AttemptRecord>();
    await pool(attempts, 16, async (a) => void records.set(a.attemptId, await plane.ecp.awaitOutcome(a.attemptId)));

    // The worker aborts a timed-out call on its own clock, which may lag the server's timeout that closed the attempt.
    const abandonedAsExpected = () => attempts.every((a) => (plane.faults.abandoned.get(a.attemptId) ?? 0) >= a.c.abandoned);
    await until(abandonedAsExpected, 20_000, 'timed-out calls to be aborted').catch(() => {});
    const rows = cases.map((c) => {
      const mine = attempts.filter((a) => a.c === c);
      const ok = mine.filter((a) => {
        const record = records.get(a.attemptId)!;
        const requests = plane.faults.requests.get(a.attemptId) ?? 0;
        return (
          record.status === c.status &&
          (c.requests === null ? requests === 0 : requests === c.requests) &&
          (plane.faults.abandoned.get(a.attemptId) ?? 0) === c.abandoned &&
          (c.reason ? c.reason.test(record.outcome?.ok === false ? record.outcome.error.message : '') : true) &&
          (c.errorType ? record.outcome?.ok === false && record.outcome.error.type === c.errorType : true)
        );
      });
      const effects = mine.reduce((n, a) => n + (plane.faults.effects.get(a.attemptId) ?? 0), 0);
      const sample = records.get(mine[0]!.attemptId)!;
      return {
        fault: c.fault,
        expected: c.status,
        tried: mine.length,
        survived: ok.length,
        lost: mine.length - ok.length,
        targetRequestsPerAttempt: c.requests ?? 0,
        abandonedPerAttempt: c.abandoned,
        duplicatedEffects: c.status === 'SUCCEEDED' ? effects - mine.length : effects,
        observedRequests: mine.map((a) => plane.faults.requests.get(a.attemptId) ?? 0),
        observedAbandoned: mine.map((a) => plane.faults.abandoned.get(a.attemptId) ?? 0),
        recordedReason: sample.outcome?.ok === false ? `${sample.outcome.error.type}: ${sample.outcome.error.message}` : null,
      };
    });
    writeReliability('target-failures', {
      fault: 'target failures: 5xx, 4xx, connection refused, hang (timeout), slow',
      command: 'npm run test:faults -- test/faults/target-failures.test.ts',
      retryPolicy: FAULT_RETRY,
      startToCloseTimeoutSeconds: FAULT_TIMEOUT_SECONDS,
      tried: attempts.length,
      survived: rows.reduce((n, r) => n + r.survived, 0),
      lost: rows.reduce((n, r) => n + r.lost, 0),
      duplicatedEffects: rows.reduce((n, r) => n + r.duplicatedEffects, 0),
      seconds: Math.round((Date.now() - started0) / 1000),
      kinds: rows,
    });
    for (const row of rows) expect(row, row.fault).toMatchObject({ survived: row.tried, lost: 0, duplicatedEffects: 0 });
  });
});
