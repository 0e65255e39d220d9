import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  attemptIdFor,
  decideUpdate,
  proposalHash,
  parseProposal,
  TASK_QUEUE,
  WORKFLOW_TYPE,
  type AttemptRecord,
  type ProposalInput,
} from '../../common';
import { forgeDecision, refund } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { bundleWithoutVisibility, startTimeSkippingServer } from '../helpers/temporalServers';

// Temporal's time-skipping test server: a one-hour deadline passes in milliseconds. It cannot register custom search
// attributes, so attempts start without them and the worker runs the same workflow code minus visibility publishing.
let env: TestWorkflowEnvironment;
let plane: TestPlane;
beforeAll(async () => {
  env = await startTimeSkippingServer();
  plane = await startTestPlane({ env, workerOptions: { workflowBundle: await bundleWithoutVisibility() } });
});
afterAll(async () => {
  await plane?.teardown();
  await env?.teardown();
});

async function start(input: ProposalInput) {
  const proposal = parseProposal(input);
  const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
  const handle = await env.client.workflow.start(WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId: attemptId, args: [{ proposal }] });
  return { handle, attemptId, proposalHash: proposalHash(proposal) };
}

describe('deadline (time-skipping server)', () => {
  it('expires an undecided attempt after its one-hour deadline: EXPIRED, apart from REJECTED, nothing ran', async () => {
    const { handle, attemptId, proposalHash } = await start(refund(7_500));
    const record = (await handle.result()) as AttemptRecord;
    expect(record.status).toBe('EXPIRED');
    expect(record.timeline.map((t) => t.status)).toEqual(['PROPOSED', 'EVALUATING', 'AWAITING_DECISION', 'EXPIRED']);
    const waited = Date.parse(record.timeline[3]!.at) - Date.parse(record.timeline[2]!.at);
    expect(waited).toBeGreaterThanOrEqual(3600_000);
    expect(record.enforcement).toBeNull();
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(0);

    // A decision after the deadline is refused: the attempt is closed and stays EXPIRED.
    const late = forgeDecision(plane.key('alice'), { attemptId, proposalHash, human: 'alice' });
    await expect(handle.executeUpdate(decideUpdate, { args: [late] })).rejects.toThrow();
    expect(((await handle.result()) as AttemptRecord).status).toBe('EXPIRED');
  });

  it('counts a decision made 59 minutes into a one-hour wait', async () => {
    const { handle, attemptId, proposalHash } = await start(refund(7_600));
    await env.sleep('59m');
    const result = await handle.executeUpdate(decideUpdate, {
      args: [forgeDecision(plane.key('alice'), { attemptId, proposalHash, human: 'alice' })],
    });
    expect(result.accepted).toBe(true);
    const record = (await handle.result()) as AttemptRecord;
    expect(record.status).toBe('SUCCEEDED');
    expect(Date.parse(record.decisions.accepted[0]!.receivedAt) - Date.parse(record.timeline[2]!.at)).toBeGreaterThanOrEqual(58 * 60_000);
  });
});
