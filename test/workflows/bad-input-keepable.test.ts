import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, defaultPayloadConverter } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { attemptIdFor, TASK_QUEUE, WORKFLOW_TYPE } from '../../common';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => plane?.teardown());

/** An independent RFC 8785 hash: the `canonicalize` package directly. */
const independentHash = (value: unknown) => `sha256:${bytesToHex(sha256(utf8ToBytes(canonicalize(value)!)))}`;

/** Starts the workflow directly through Temporal, around the client library's validation, with JSON text as the input. */
async function startRaw(proposalJson: string) {
  const proposal = JSON.parse(proposalJson) as { agent: string; idempotencyKey: string };
  const workflowId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
  const handle = await plane.env.client.workflow.start(WORKFLOW_TYPE, { taskQueue: TASK_QUEUE, workflowId, args: [{ proposal }] });
  return { handle, workflowId };
}

/** The proposal exactly as the workflow's start input holds it (first history event). */
async function startInputProposal(workflowId: string): Promise<unknown> {
  const history = await plane.env.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return defaultPayloadConverter.fromPayload<{ proposal: unknown }>(payload).proposal;
}

describe('a start input that cannot be kept exactly fails the workflow at once; nothing runs', () => {
  const base = () => refund(700, 'order-1002');
  it.each([
    [
      'a __proto__ key in parameters',
      (p: object) => JSON.stringify(p).replace('"parameters":{', '"parameters":{"__proto__":{"amount":999999},'),
      'parameters.__proto__',
    ],
    [
      'a constructor key nested in claims',
      (p: object) => JSON.stringify({ ...p, claims: { order: { constructor: 'x' } } }),
      'claims.order.constructor',
    ],
    [
      'a number beyond 2^53',
      (p: object) => JSON.stringify({ ...p, parameters: { ...(p as { parameters: object }).parameters, amount: 2 ** 60 } }),
      'parameters.amount',
    ],
    ['no claims (validation would add them, changing the hash)', (p: object) => JSON.stringify({ ...p, claims: undefined }), 'claims'],
  ])('%s', async (_, build, field) => {
    const text = build(base());
    const { handle, workflowId } = await startRaw(text);
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InvalidProposal');
    expect(cause.message).toContain(`field "${field}"`);
    const history = await plane.env.client.workflow.getHandle(workflowId).fetchHistory();
    const ran = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
    );
    expect(ran).toEqual([]);
    expect(plane.target.effects.filter((e) => e.idempotencyKey === workflowId)).toEqual([]);
  });
});

describe("the record's proposal hash is the RFC 8785 hash of the start input", () => {
  it('for every raw start that runs (the others fail as InvalidProposal), and through the client library', async () => {
    const inputs = [
      JSON.stringify({ ...refund(600, 'order-1002'), claims: { total: 12_000, note: 'caf\u00e9' } }),
      JSON.stringify(refund(600, 'order-1002')).replace('"parameters":{', '"parameters":{"__proto__":{"amount":1},'),
      JSON.stringify({ ...refund(600, 'order-1002'), claims: undefined }),
    ];
    let ran = 0;
    for (const text of inputs) {
      const raw = await startRaw(text);
      const failure = await raw.handle.result().then(
        () => null,
        (e: unknown) => e,
      );
      if (failure) {
        expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('InvalidProposal');
        continue;
      }
      ran++;
      const record = await plane.ecp.getRecord(raw.workflowId);
      expect(record.proposalHash, text).toBe(independentHash(await startInputProposal(raw.workflowId)));
    }
    expect(ran).toBe(1);

    const { attemptId, proposalHash } = await plane.ecp.propose(refund(500, 'order-1002'));
    await waitForStatus(plane.ecp, attemptId, 'SUCCEEDED');
    const input = await startInputProposal(attemptId);
    expect(proposalHash).toBe(independentHash(input));
    expect((await plane.ecp.getRecord(attemptId)).proposalHash).toBe(independentHash(input));
  });
});
