import type { AttemptRecord, AttemptStatus, ProposalInput, Verdict } from '../../../common';
import { forgeDecision, uniqueKey } from '../../helpers/attempts';
import type { FaultPlane as FullFaultPlane } from './faultPlane';

/** What the scenarios use of a plane: its targets and keys (the cluster suite's plane has them too). */
type FaultPlane = Pick<FullFaultPlane, 'target' | 'faults' | 'key'>;

let serial = 0;

/** A `faults.op` proposal: `mode` is the fault target's behaviour, `gate` the policy path (auto/approve/short/race). */
export const op = (mode: string, gate: string): ProposalInput => ({
  agent: 'refund-bot',
  actionType: 'faults.op',
  resource: `op-${mode}`,
  parameters: { mode, gate },
  justification: 'fault suite',
  idempotencyKey: uniqueKey(`op-${mode}-${gate}`),
});

export const refused = (): ProposalInput => ({ ...op('ok', 'auto'), actionType: 'faults.refused', idempotencyKey: uniqueKey('refused') });

/** A refund on a fresh order of the demo target, so every attempt's policy path is independent of the others. */
export function refundOn(plane: FaultPlane, amount: number, total = 12_000): ProposalInput {
  const orderId = `order-f${++serial}-${Date.now().toString(36)}`;
  plane.target.orders.set(orderId, { total, refunded: 0, currency: 'EUR', customer: 'Fault' });
  return {
    agent: 'refund-bot',
    actionType: 'payments.refund',
    resource: orderId,
    parameters: { orderId, amount, reason: 'fault suite' },
    justification: 'fault suite',
    idempotencyKey: uniqueKey('refund'),
  };
}

/** A production deploy (2 SRE approvals) of a fresh service of the demo target. */
export function deployOn(plane: FaultPlane): ProposalInput {
  const service = `svc-f${++serial}-${Date.now().toString(36)}`;
  plane.target.services.set(service, { currentVersion: '1.0.0', frozen: false });
  return {
    agent: 'deploy-bot',
    actionType: 'deploys.release',
    resource: service,
    parameters: { service, version: '2.0.0', environment: 'production' },
    justification: 'fault suite',
    idempotencyKey: uniqueKey('deploy'),
  };
}

export interface Started {
  kind: string;
  attemptId: string;
  proposalHash: string;
  expected: AttemptStatus;
}

export const decision = (plane: FaultPlane, a: Started, human: string, verdict: Verdict = 'approve') =>
  forgeDecision(plane.key(human), { attemptId: a.attemptId, proposalHash: a.proposalHash, human, verdict });

/** Side effects the targets applied for this attempt (demo target + fault target). */
export function effectsOf(plane: FaultPlane, attemptId: string): number {
  return plane.target.effects.filter((e) => e.idempotencyKey === attemptId).length + (plane.faults.effects.get(attemptId) ?? 0);
}

/** Per-kind tally: tried, reached the expected terminal status, lost (did not), duplicated effects. */
export function tally(started: readonly Started[], records: ReadonlyMap<string, AttemptRecord>, plane: FaultPlane) {
  const rows = new Map<
    string,
    {
      kind: string;
      expected: AttemptStatus;
      tried: number;
      survived: number;
      lost: number;
      duplicatedEffects: number;
      missingEffects: number;
    }
  >();
  for (const a of started) {
    const row = rows.get(a.kind) ?? {
      kind: a.kind,
      expected: a.expected,
      tried: 0,
      survived: 0,
      lost: 0,
      duplicatedEffects: 0,
      missingEffects: 0,
    };
    rows.set(a.kind, row);
    row.tried++;
    const status = records.get(a.attemptId)?.status;
    if (status === a.expected) row.survived++;
    else row.lost++;
    const effects = effectsOf(plane, a.attemptId);
    const wanted = a.expected === 'SUCCEEDED' ? 1 : 0;
    if (effects > wanted) row.duplicatedEffects += effects - wanted;
    if (effects < wanted) row.missingEffects += wanted - effects;
  }
  return [...rows.values()];
}
