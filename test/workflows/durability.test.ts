import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptIdFor, decisionSignal, parseProposal, proposalHash, proposalHashKey, TASK_QUEUE, WORKFLOW_TYPE } from '../../common';
import { deploy, forgeDecision, refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane({
    policies: {
      // All requirements apply and the earliest deadline wins: a 9,999-cent refund must be decided within 2 s.
      'zz-short-deadline.cedar': `@id("refunds.odd-amount-fast")\n@requires_approval("finance")\n@deadline("2s")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount == 9999 };\n`,
    },
  });
});
afterAll(async () => plane?.teardown());

describe('awaiting a decision is a durable state', () => {
  it('survives the worker stopping: decisions sent while no worker runs are honoured after restart', async () => {
    const { attemptId, proposalHash } = await plane.ecp.propose(deploy('production', 'checkout', '2.5.0'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.stopWorker();

    // No worker: signals wait in history; the workflow's state is in Temporal, not in worker memory.
    const handle = plane.ecp.client.workflow.getHandle(attemptId);
    await handle.signal(decisionSignal, forgeDecision(plane.key('bob'), { attemptId, proposalHash, human: 'bob' }));
    await handle.signal(decisionSignal, forgeDecision(plane.key('erin'), { attemptId, proposalHash, human: 'erin' }));
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(0);

    await plane.startWorker();
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.via])).toEqual([
      ['bob', 'signal'],
      ['erin', 'signal'],
    ]);
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(1);
  });

  it('detects a conflicting proposal from the start input, with no worker running and a forged hash attribute', async () => {
    await plane.stopWorker();
    try {
      const honest = refund(7_700);
      const forged = { ...honest, parameters: { ...honest.parameters, amount: 1 } };
      const attemptId = attemptIdFor(honest.agent, honest.idempotencyKey);
      await plane.ecp.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: attemptId,
        args: [{ proposal: forged }],
        typedSearchAttributes: [{ key: proposalHashKey, value: proposalHash(parseProposal(honest)) }],
      });
      await expect(plane.ecp.propose(honest)).rejects.toMatchObject({ code: 'conflict', field: 'idempotencyKey' });
      expect(await plane.ecp.propose(forged)).toMatchObject({ attemptId, created: false });
      await plane.ecp.client.workflow.getHandle(attemptId).terminate('test cleanup');
    } finally {
      await plane.startWorker();
    }
  });

  it('keeps the awaited groups and deadline visible to Temporal visibility queries', async () => {
    const { attemptId } = await plane.ecp.propose(deploy('production', 'checkout', '2.6.0'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await expect
      .poll(
        async () =>
          (await plane.ecp.listAttempts({ status: 'AWAITING_DECISION', awaitingGroups: ['sre'] })).find((a) => a.attemptId === attemptId),
        { timeout: 10_000 },
      )
      .toMatchObject({ agent: 'deploy-bot', actionType: 'deploys.release', awaitingGroups: ['sre'], resource: 'checkout' });
    const [summary] = (await plane.ecp.listAttempts({ agent: 'deploy-bot', status: 'AWAITING_DECISION' })).filter(
      (a) => a.attemptId === attemptId,
    );
    expect(Date.parse(summary!.deadline!) - Date.parse(summary!.startedAt)).toBeGreaterThan(3.9 * 3600_000);
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
  });
});

describe('deadline on the real dev server', () => {
  it('expires in real time, reports EXPIRED (not REJECTED), and a late decision changes nothing', async () => {
    const { attemptId, proposalHash } = await plane.ecp.propose(refund(9_999));
    const waiting = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    expect(Date.parse(waiting.deadline!) - Date.parse(waiting.timeline.at(-1)!.at)).toBe(2000);
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('EXPIRED');
    await expect(
      plane.ecp.client.workflow
        .getHandle(attemptId)
        .signal(decisionSignal, forgeDecision(plane.key('alice'), { attemptId, proposalHash, human: 'alice' })),
    ).rejects.toThrow(/completed/);
    expect((await plane.ecp.getRecord(attemptId)).status).toBe('EXPIRED');
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(0);
  });
});
