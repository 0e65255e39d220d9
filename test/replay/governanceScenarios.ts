import { controlsChangedSignal } from '../../common';
import { refund, waitForStatus } from '../helpers/attempts';
import type { TestPlane } from '../helpers/plane';

/**
 * Policies of the governance controls (docs/governance.md) with windows short enough for tests: an overridable forbid,
 * one whose override must be ratified within 4 s, and an approval that escalates twice (3 s, 6 s) with a reminder.
 * Each applies to small refunds whose `reason` names it.
 */
export const GOVERNANCE_POLICIES = `
@id("refunds.outage-forbid")
@override_by("sre,support")
forbid (principal, action == Action::"payments.refund", resource)
when { context.parameters.reason == "outage" };

@id("refunds.ratified-forbid")
@override_by("sre")
@ratify_by("finance")
@ratify_within("4s")
forbid (principal, action == Action::"payments.refund", resource)
when { context.parameters.reason == "ratify" };

@id("refunds.escalating")
@requires_approval("finance")
@deadline("40s")
@escalate_after("3s,6s")
@escalate_to("support,sre")
@remind_before("36s")
permit (principal, action == Action::"payments.refund", resource)
when { principal.scopes.contains("payments:refund") && context.parameters.reason == "escalate" };
`;

/** A small refund (automatically permitted by the demo) whose `reason` selects a governance policy above. */
export const governed = (reason: string, amount = 100, orderId = 'order-1001') => {
  const input = refund(amount, orderId);
  return { ...input, parameters: { ...input.parameters, reason } };
};

/** One scenario per governance path; each returns the attempt ID once the attempt has closed. */
export const GOVERNANCE_SCENARIOS: Record<string, (plane: TestPlane) => Promise<string>> = {
  async 'overridden-ratified'(plane) {
    const { attemptId } = await plane.ecp.propose(governed('ratify'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'override', reason: 'payment rail down', privateKey: plane.key('bob') });
    await waitForStatus(plane.ecp, attemptId, 'SUCCEEDED');
    await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'ratify', privateKey: plane.key('alice') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'overridden-unratified'(plane) {
    const { attemptId } = await plane.ecp.propose(governed('ratify'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'override', reason: 'payment rail down', privateKey: plane.key('bob') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'escalated-twice'(plane) {
    const { attemptId } = await plane.ecp.propose(governed('escalate'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    for (let i = 0; i < 100 && ((await plane.ecp.getRecord(attemptId)).governance?.escalations.length ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'controls-changed-denied'(plane) {
    const order = plane.target.orders.get('order-1003')!;
    const refunded = order.refunded;
    const { attemptId } = await plane.ecp.propose(refund(6_000, 'order-1003'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    order.refunded = order.total - 1_000;
    await plane.ecp.client.workflow.getHandle(attemptId).signal(controlsChangedSignal);
    await plane.ecp.awaitOutcome(attemptId);
    order.refunded = refunded;
    return attemptId;
  },
  async 'controls-changed-kept'(plane) {
    const { attemptId } = await plane.ecp.propose(refund(6_000));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.client.workflow.getHandle(attemptId).signal(controlsChangedSignal);
    for (let i = 0; i < 50 && ((await plane.ecp.getRecord(attemptId)).governance?.controlRechecks ?? 0) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
};
