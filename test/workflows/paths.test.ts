import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { EcpClient } from '../../client';
import { ListingSealVerifier } from '../../client/listingSeal';
import { attemptIdFor, EcpError, LEGACY_WORKFLOW_TYPE, TASK_QUEUE, WORKFLOW_TYPE } from '../../common';
import { deploy, refund, uniqueKey, waitForStatus } from '../helpers/attempts';
import { eventually } from '../helpers/eventually';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { expectLogLine } from '../helpers/quietLogs';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => plane?.teardown());

const effectsFor = (attemptId: string) => plane.target.effects.filter((e) => e.idempotencyKey === attemptId);

describe('auto-allow', () => {
  it('executes exactly once with the exact parameters, facts and advice pinned in the record', async () => {
    const proposal = refund(800, 'order-1002');
    const { attemptId, proposalHash, created } = await plane.ecp.propose(proposal);
    expect(created).toBe(true);
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.proposalHash).toBe(proposalHash);
    expect(record.advice).toMatchObject({ verdict: 'allow', policyIds: ['refunds.small-automatic'] });
    expect(record.context?.facts).toMatchObject({ total: 2500, refunded: 0 });
    expect(record.enforcement).toMatchObject({ verdict: 'execute', idempotencyKey: attemptId });
    expect(record.timeline.map((t) => t.status)).toEqual(['PROPOSED', 'EVALUATING', 'EXECUTING', 'SUCCEEDED']);
    expect(effectsFor(attemptId)).toEqual([{ kind: 'refund', idempotencyKey: attemptId, body: proposal.parameters }]);
    expect(record.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('deny', () => {
  it('never executes when a forbid applies (refund above the verified order total)', async () => {
    // The agent claims a larger order total; the verified facts decide.
    const { attemptId } = await plane.ecp.propose(refund(3000, 'order-1002', { claims: { total: 99_999 } }));
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('DENIED');
    expect(record.advice).toMatchObject({ verdict: 'deny', policyIds: ['refunds.never-exceed-order'] });
    expect(record.enforcement).toBeNull();
    expect(effectsFor(attemptId)).toHaveLength(0);
  });

  it('denies a deploy during a change freeze even though approval would otherwise be required', async () => {
    const { attemptId } = await plane.ecp.propose(deploy('production', 'billing', '1.9.5'));
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('DENIED');
    expect(record.advice?.policyIds).toEqual(['deploys.change-freeze']);
    expect(effectsFor(attemptId)).toHaveLength(0);
  });

  it('denies when verified facts are unavailable (fail closed)', async () => {
    const { attemptId } = await plane.ecp.propose(refund(100, 'order-404'));
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('DENIED');
    expect(record.context?.factsError).toMatch(/404/);
    expect(record.advice?.reasons.join(' ')).toMatch(/verified facts unavailable/);
  });

  it('denies a proposal from an agent the directory does not know, even when started around the client checks', async () => {
    const proposal = { ...refund(100), agent: 'rogue-bot' };
    const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    const handle = await plane.env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: attemptId,
      args: [{ proposal }],
    });
    const record = await handle.result();
    expect(record.status).toBe('DENIED');
    expect(record.advice.reasons).toContain('agent "rogue-bot" is not in the directory');
  });
});

describe('quorum approval', () => {
  it('waits for two distinct SREs, then executes once with exactly the approved parameters', async () => {
    const proposal = deploy('production');
    const { attemptId } = await plane.ecp.propose(proposal);
    const waiting = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    expect(waiting.requirements).toMatchObject([{ policyId: 'deploys.production-two-sre', quorum: 2, approvedBy: [], met: false }]);

    const first = await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
    expect(first).toMatchObject({ accepted: true, status: 'AWAITING_DECISION' });
    const halfway = await plane.ecp.getRecord(attemptId);
    expect(halfway.requirements[0]).toMatchObject({ approvedBy: ['bob'], met: false });
    expect(effectsFor(attemptId)).toHaveLength(0);

    const second = await plane.ecp.decide(attemptId, {
      human: 'erin',
      verdict: 'approve',
      reason: 'looks good',
      privateKey: plane.key('erin'),
    });
    expect(second.accepted).toBe(true);
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => d.human)).toEqual(['bob', 'erin']);
    expect(effectsFor(attemptId)).toEqual([{ kind: 'deploy', idempotencyKey: attemptId, body: proposal.parameters }]);
  });

  it('a decision whose answer is lost (DEADLINE_EXCEEDED after the server took it) is retried and counts once', async () => {
    // What a client sees while a history process stops and its shards move: the server took the update, but its
    // answer never came back. Here the status of the first update call on this connection is replaced by
    // DEADLINE_EXCEEDED (a unary call with an error status drops its message).
    let updates = 0;
    const loseFirstUpdateAnswer: Interceptor = (options, nextCall) => {
      const lose = options.method_definition.path.endsWith('/UpdateWorkflowExecution') && updates++ === 0;
      return new InterceptingCall(nextCall(options), {
        start(metadata, _listener, next) {
          next(metadata, {
            onReceiveStatus(received, nextStatus) {
              const deadline = { code: status.DEADLINE_EXCEEDED, details: 'context deadline exceeded', metadata: new Metadata() };
              nextStatus(lose ? deadline : received);
            },
          });
        },
      });
    };
    const connection = await Connection.connect({ address: plane.address, interceptors: [loseFirstUpdateAnswer] });
    try {
      const lossy = new EcpClient(
        new Client({ connection, namespace: 'default' }),
        plane.runtime.config,
        new ListingSealVerifier(plane.planeKey),
      );
      // A service of its own: the other quorum test deploys checkout 2.4.0, and the target refuses the same version twice.
      plane.target.services.set('search', { currentVersion: '1.0.0', frozen: false });
      const { attemptId } = await plane.ecp.propose(deploy('production', 'search', '1.1.0'));
      await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
      const first = await lossy.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
      expect(updates).toBe(2);
      expect(first).toMatchObject({ accepted: true, status: 'AWAITING_DECISION' });
      await plane.ecp.decide(attemptId, { human: 'erin', verdict: 'approve', privateKey: plane.key('erin') });
      const record = await plane.ecp.awaitOutcome(attemptId);
      expect(record.status).toBe('SUCCEEDED');
      // The retry got the first try's answer: bob counted once, and no refused duplicate in the record.
      expect(record.decisions.accepted.map((d) => d.human)).toEqual(['bob', 'erin']);
      expect(record.decisions.refusedTotal).toBe(0);
      expect(effectsFor(attemptId)).toHaveLength(1);
    } finally {
      await connection.close();
    }
  });

  it('ends REJECTED on one authorised rejection, and nothing runs', async () => {
    const { attemptId } = await plane.ecp.propose(refund(7_500));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const result = await plane.ecp.decide(attemptId, {
      human: 'alice',
      verdict: 'reject',
      reason: 'no photos attached',
      privateKey: plane.key('alice'),
    });
    expect(result.accepted).toBe(true);
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('REJECTED');
    expect(record.timeline.at(-1)?.note).toBe('no photos attached');
    expect(effectsFor(attemptId)).toHaveLength(0);
  });

  it('ends CANCELLED when cancelled while awaiting a decision, and nothing runs', async () => {
    const { attemptId } = await plane.ecp.propose(refund(7_600));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('CANCELLED');
    expect(effectsFor(attemptId)).toHaveLength(0);
  });

  it('is listed as pending for a human of the awaited group, not for others or for the agent owner', async () => {
    const { attemptId } = await plane.ecp.propose(refund(6_000));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const ids = async (human: string) => (await plane.ecp.listPending({ human })).map((a) => a.attemptId);
    await expect.poll(() => ids('alice'), { timeout: 10_000 }).toContain(attemptId);
    expect(await ids('bob')).not.toContain(attemptId);
    expect(await ids('carol')).not.toContain(attemptId);
  });
});

describe('idempotent start', () => {
  it('returns the existing attempt for the same proposal, running or closed', async () => {
    const proposal = refund(7_000);
    const first = await plane.ecp.propose(proposal);
    const again = await plane.ecp.propose(proposal);
    expect(again).toEqual({ ...first, created: false });
    await plane.ecp.client.workflow.getHandle(first.attemptId).cancel();
    await plane.ecp.awaitOutcome(first.attemptId);
    const afterClose = await plane.ecp.propose(proposal);
    expect(afterClose).toEqual({ ...first, created: false });
  });

  it('refuses the same idempotency key with a different proposal, naming the key', async () => {
    const proposal = refund(100, 'order-1002');
    const { attemptId } = await plane.ecp.propose(proposal);
    const edited = { ...proposal, parameters: { ...proposal.parameters, amount: 101 } };
    const error = await plane.ecp.propose(edited).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcpError);
    expect(error).toMatchObject({ code: 'conflict', field: 'idempotencyKey' });
    expect((error as Error).message).toContain(attemptId);
    await plane.ecp.awaitOutcome(attemptId);
    expect(effectsFor(attemptId)).toHaveLength(1);
  });
});

describe('bad input starts nothing', () => {
  it('names the field of invalid parameters and starts no workflow', async () => {
    const proposal = refund(100);
    proposal.parameters = { ...proposal.parameters, amount: 'lots' };
    const error = await plane.ecp.propose(proposal).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'invalid_input' });
    expect((error as Error).message).toContain('parameters.amount');
    const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    await expect(plane.ecp.client.workflow.getHandle(attemptId).describe()).rejects.toThrow();
  });

  it('names the limit for an oversized proposal', async () => {
    const proposal = refund(100);
    proposal.justification = 'x'.repeat(3000);
    proposal.claims = { notes: 'y'.repeat(70_000) };
    await expect(plane.ecp.propose(proposal)).rejects.toThrow(/limit is 65536 bytes/);
  });

  it('fails a workflow started with a malformed proposal instead of wedging it', async () => {
    const workflowId = `att-malformed-${uniqueKey()}`;
    // The worker warns "Workflow failed" for exactly the failure this test provokes: expected, so kept out of the output.
    const warning = expectLogLine(new RegExp(`^Workflow failed .*"workflowId":"${workflowId}".*invalid proposal`));
    const handle = await plane.env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ proposal: { agent: 'x' } }],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toMatch(/invalid proposal: field "actionType"/);
    await warning.seen;
  });
});

describe('the two attempt workflow types (executionAttemptV2, and executionAttempt before ECP 0.6)', () => {
  /** The history's patch markers, `TemporalChangeVersion` upserts and memo writes. */
  async function historyShape(attemptId: string) {
    const { events } = await plane.ecp.client.workflow.getHandle(attemptId).fetchHistory();
    return {
      patchMarkers: events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
      changeVersion: events!.some((e) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).includes(
          'TemporalChangeVersion',
        ),
      ),
      memoWrites: events!.filter((e) => e.workflowPropertiesModifiedEventAttributes).length,
    };
  }
  const startRaw = async (type: string, memo?: Record<string, unknown>) => {
    const proposal = refund(100, 'order-1003');
    const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    const handle = await plane.env.client.workflow.start(type, {
      taskQueue: TASK_QUEUE,
      workflowId: attemptId,
      args: [{ proposal }],
      ...(memo ? { memo } : {}),
    });
    return { attemptId, record: await handle.result() };
  };

  it('an attempt the client starts is an executionAttemptV2: no patch marker, its start memo kept, listed with its resource', async () => {
    const { attemptId } = await plane.ecp.propose(refund(100, 'order-1003'));
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    const handle = plane.ecp.client.workflow.getHandle(attemptId);
    expect((await handle.describe()).type).toBe(WORKFLOW_TYPE);
    expect(await historyShape(attemptId)).toEqual({ patchMarkers: 0, changeVersion: false, memoWrites: 0 });
    expect((await handle.describe()).memo).toEqual({ resource: 'order-1003' });
    const listed = await eventually(`${attemptId} listed as SUCCEEDED`, async () =>
      (await plane.ecp.listAttempts()).find((r) => r.attemptId === attemptId && r.status === 'SUCCEEDED'),
    );
    expect(listed.resource).toBe('order-1003');
  });

  it('without the memo, or with a wrong one, an executionAttemptV2 writes the memo itself', async () => {
    for (const memo of [undefined, { resource: 'order-LIE' }, { resource: 1003 }]) {
      const { attemptId, record } = await startRaw(WORKFLOW_TYPE, memo);
      expect(record.status).toBe('SUCCEEDED');
      expect(await historyShape(attemptId), JSON.stringify(memo)).toEqual({ patchMarkers: 0, changeVersion: false, memoWrites: 1 });
      expect((await plane.ecp.client.workflow.getHandle(attemptId).describe()).memo?.resource).toBe('order-1003');
    }
  });

  it('a worker that does not know an attempt type fails the workflow task and leaves the attempt open for a worker that does', async () => {
    // What a worker older than ECP 0.6 does with an executionAttemptV2; here, this worker with a type from the future.
    const proposal = refund(100, 'order-1003');
    const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    // The SDK logs each failed activation (the server retries the task at once, then backs off), core each failing task.
    const activations = expectLogLine(/^Failed to process Workflow Activation .*executionAttemptV9/, 4);
    const handle = await plane.env.client.workflow.start('executionAttemptV9', {
      taskQueue: TASK_QUEUE,
      workflowId: attemptId,
      args: [{ proposal }],
    });
    const tasks = expectLogLine(new RegExp(`^Failing workflow task .*${handle.firstExecutionRunId}`), 4);
    const failedTask = await eventually('a failed workflow task', async () =>
      (await handle.fetchHistory()).events!.find((e) => e.workflowTaskFailedEventAttributes),
    );
    expect(failedTask.workflowTaskFailedEventAttributes!.failure).toBeDefined();
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toEqual([]);
    await handle.terminate('test over');
    activations.cancel();
    tasks.cancel();
  });

  it('an executionAttempt started today records the patch marker and writes its memo, and follows the same rules', async () => {
    const current = await startRaw(WORKFLOW_TYPE, { resource: 'order-1003' });
    const legacy = await startRaw(LEGACY_WORKFLOW_TYPE, { resource: 'order-1003' });
    const statuses = (r: { timeline: Array<{ status: string }> }) => r.timeline.map((t) => t.status);
    expect(legacy.record.status).toBe('SUCCEEDED');
    expect(statuses(legacy.record)).toEqual(statuses(current.record));
    expect(legacy.record.advice).toEqual(current.record.advice);
    expect(await historyShape(legacy.attemptId)).toEqual({ patchMarkers: 1, changeVersion: true, memoWrites: 1 });
    // Both are attempts of this plane: listed, and read by the client.
    await eventually(`${legacy.attemptId} listed`, async () =>
      (await plane.ecp.listAttempts()).find((r) => r.attemptId === legacy.attemptId && r.status === 'SUCCEEDED'),
    );
    expect((await plane.ecp.getRecord(legacy.attemptId)).status).toBe('SUCCEEDED');
  });
});
