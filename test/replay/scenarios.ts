import { decisionSignal, TASK_QUEUE, WORKFLOW_TYPE, attemptIdFor, parseProposal } from '../../common';
import { deploy, forgeDecision, refund, strangerKey, waitForStatus } from '../helpers/attempts';
import type { TestPlane } from '../helpers/plane';

/**
 * One scenario per lifecycle path. Each returns the attempt ID once the attempt has closed; its history is what the
 * replay suite checks against the current workflow code.
 */
export const SCENARIOS: Record<string, (plane: TestPlane) => Promise<string>> = {
  async 'succeeded-auto'(plane) {
    const { attemptId } = await plane.ecp.propose(refund(900, 'order-1002'));
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'succeeded-quorum'(plane) {
    const { attemptId, proposalHash } = await plane.ecp.propose(deploy('production', 'checkout', '3.0.0'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    // Refused decisions are part of the history too: self-approval, then a duplicate.
    await plane.ecp.decide(attemptId, { human: 'dave', verdict: 'approve', privateKey: plane.key('dave') });
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
    await plane.ecp.client.workflow
      .getHandle(attemptId)
      .signal(decisionSignal, forgeDecision(plane.key('erin'), { attemptId, proposalHash, human: 'erin' }));
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async failed(plane) {
    // The target refuses to deploy the version already running (409): a final failure, not retried.
    const { attemptId } = await plane.ecp.propose(deploy('staging', 'checkout', plane.target.services.get('checkout')!.currentVersion));
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async denied(plane) {
    const { attemptId } = await plane.ecp.propose(refund(5_000, 'order-1002'));
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async rejected(plane) {
    const { attemptId } = await plane.ecp.propose(refund(6_500));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'reject', reason: 'duplicate request', privateKey: plane.key('alice') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async expired(plane) {
    const { attemptId } = await plane.ecp.propose(refund(9_999));
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async cancelled(plane) {
    const { attemptId } = await plane.ecp.propose(refund(6_600));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'succeeded-after-signal-flood'(plane) {
    // 600 signals reach one workflow task at once (the worker is stopped while they arrive): the intake takes them a
    // slice per task, with a 1 ms timer between slices, before alice's approval by update counts.
    const { attemptId, proposalHash } = await plane.ecp.propose(refund(6_700));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.stopWorker();
    const handle = plane.ecp.client.workflow.getHandle(attemptId);
    const stranger = forgeDecision(strangerKey(), { attemptId, proposalHash, human: 'alice' });
    for (let i = 0; i < 600; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => handle.signal(decisionSignal, (i + j) % 2 ? stranger : ({ junk: i + j } as never))),
      );
    }
    await plane.startWorker();
    await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    await plane.ecp.awaitOutcome(attemptId);
    return attemptId;
  },
  async 'invalid-proposal'(plane) {
    const proposal = parseProposal(refund(100));
    const workflowId = attemptIdFor('someone-else', proposal.idempotencyKey);
    const handle = await plane.env.client.workflow.start(WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId, args: [{ proposal }] });
    await handle.result().catch(() => undefined);
    return workflowId;
  },
};

/** The 2-second deadline policy the `expired` scenario relies on. */
export const SHORT_DEADLINE_POLICY = `@id("refunds.odd-amount-fast")\n@requires_approval("finance")\n@deadline("2s")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount == 9999 };\n`;
