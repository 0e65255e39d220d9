import type { AttemptRecord } from '../../common';
import { deploy, refund, waitForStatus } from '../helpers/attempts';
import type { TestPlane } from '../helpers/plane';

/** The attempts the archive, backtest and list tests share: one per kind of advice and outcome. */
export interface AuditScenario {
  /** refund 800 of order-1002: allow (refunds.small-automatic) → SUCCEEDED */
  autoAllowed: string;
  /** refund 3000 of order-1002 (total 2500): deny (refunds.never-exceed-order) → DENIED */
  denied: string;
  /** refund 7500 of order-1001: finance approval, alice approves → SUCCEEDED */
  approved: string;
  /** refund 6000 of order-1003: finance approval, alice rejects → REJECTED */
  rejected: string;
  /** deploy checkout to staging: allow → SUCCEEDED */
  staging: string;
  /** deploy checkout to production: 2 of sre, bob and erin approve → SUCCEEDED */
  production: string;
  /** Between the first two attempts and the others (for time-range filters). */
  midpoint: string;
  records: Record<string, AttemptRecord>;
}

export async function runAuditScenario(plane: TestPlane): Promise<AuditScenario> {
  const { ecp } = plane;
  const autoAllowed = (await ecp.propose(refund(800, 'order-1002'))).attemptId;
  await ecp.awaitOutcome(autoAllowed);
  const denied = (await ecp.propose(refund(3000, 'order-1002'))).attemptId;
  await ecp.awaitOutcome(denied);
  await new Promise((r) => setTimeout(r, 50));
  const midpoint = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 50));

  const approved = (await ecp.propose(refund(7500, 'order-1001'))).attemptId;
  const rejected = (await ecp.propose(refund(6000, 'order-1003'))).attemptId;
  const production = (await ecp.propose(deploy('production', 'checkout', '2.5.0'))).attemptId;
  const staging = (await ecp.propose(deploy('staging', 'checkout', '2.4.1'))).attemptId;
  for (const id of [approved, rejected, production]) await waitForStatus(ecp, id, 'AWAITING_DECISION');
  await ecp.decide(approved, { human: 'alice', verdict: 'approve', reason: 'photos checked', privateKey: plane.key('alice') });
  await ecp.decide(rejected, { human: 'alice', verdict: 'reject', reason: 'no photos', privateKey: plane.key('alice') });
  await ecp.decide(production, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
  await ecp.decide(production, { human: 'erin', verdict: 'approve', privateKey: plane.key('erin') });

  const ids = { autoAllowed, denied, approved, rejected, staging, production };
  const records: Record<string, AttemptRecord> = {};
  for (const id of Object.values(ids)) records[id] = await ecp.awaitOutcome(id);
  const expected: Record<keyof typeof ids, string> = {
    autoAllowed: 'SUCCEEDED',
    denied: 'DENIED',
    approved: 'SUCCEEDED',
    rejected: 'REJECTED',
    staging: 'SUCCEEDED',
    production: 'SUCCEEDED',
  };
  for (const [name, id] of Object.entries(ids)) {
    const status = records[id]!.status;
    if (status !== expected[name as keyof typeof ids])
      throw new Error(`scenario attempt ${name} ended ${status}, expected ${expected[name as keyof typeof ids]}`);
  }
  return { ...ids, midpoint, records };
}
