import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { decideUpdate, decisionSignal, EcpError, LIMITS, type ProposalInput } from '../../common';
import { forgeDecision, refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => plane?.teardown());
// Approved refunds really refund the demo order; start each test with the whole order refundable.
beforeEach(() => {
  plane.target.orders.get('order-1001')!.refunded = 0;
});

const SEED = 424242;

/** Malformed decision payloads: any JSON, and genuine-looking decisions with one field broken. */
function malformedDecisions(attemptId: string, proposalHash: string, n: number): unknown[] {
  const genuine = forgeDecision(plane.key('alice'), { attemptId, proposalHash, human: 'alice' });
  const broken = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ statement: fc.jsonValue({ maxDepth: 2 }), signature: fc.jsonValue({ maxDepth: 1 }) }),
    fc
      .tuple(fc.constantFrom(...Object.keys(genuine.statement)), fc.jsonValue({ maxDepth: 1 }))
      .map(([field, value]) => ({ ...genuine, statement: { ...genuine.statement, [field]: value } })),
    fc.jsonValue({ maxDepth: 1 }).map((signature) => ({ ...genuine, signature })),
    fc.constant({ ...genuine, statement: { ...genuine.statement, reason: 'x'.repeat(20_000) } }),
    fc.constant({ ...genuine, extra: true }),
  );
  // Keep only payloads that really are malformed (a mutation can reproduce a valid value by chance).
  return fc
    .sample(broken, { seed: SEED, numRuns: n * 2 })
    .filter((p) => JSON.stringify(p) !== JSON.stringify(genuine))
    .slice(0, n);
}

/** Workflow task failures other than Temporal's own UnhandledCommand (a signal arriving while a task completes). */
async function failedWorkflowTasks(attemptId: string): Promise<string[]> {
  const history = await plane.ecp.client.workflow.getHandle(attemptId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowTaskFailedEventAttributes)
    .filter((f): f is NonNullable<typeof f> => Boolean(f) && f!.failure?.message !== 'UnhandledCommand')
    .map((f) => f.failure?.message ?? String(f.cause));
}

async function count(): Promise<number> {
  const { count: n } = await plane.ecp.client.workflowService.countWorkflowExecutions({ namespace: 'default', query: '' });
  return Number(n);
}

describe('malformed decisions sent raw (property-based)', () => {
  for (const channel of ['signal', 'update'] as const) {
    it(`never fail or wedge a workflow task via ${channel}; the attempt stays decidable`, async () => {
      const { attemptId, proposalHash } = await plane.ecp.propose(refund(7_500));
      await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
      const handle = plane.ecp.client.workflow.getHandle(attemptId);
      // Fewer than the 64 signals per attempt ECP's servers accept (SERVER_LIMITS), so every one reaches the workflow.
      const payloads = malformedDecisions(attemptId, proposalHash, 60);
      let validatorRejected = 0;
      let refusedInWorkflow = 0;
      for (const payload of payloads) {
        if (channel === 'signal') {
          await handle.signal(decisionSignal, payload as never);
          continue;
        }
        try {
          const result = await handle.executeUpdate(decideUpdate, { args: [payload as never] });
          expect(result.accepted).toBe(false);
          refusedInWorkflow++;
        } catch (err) {
          // The validator names the field; a rejected update leaves no trace in history.
          expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
          expect(String((err as Error).cause)).toMatch(/invalid decision/);
          validatorRejected++;
        }
      }
      const record = await plane.ecp.getRecord(attemptId);
      expect(record.status).toBe('AWAITING_DECISION');
      expect(record.decisions.accepted).toHaveLength(0);
      expect(record.decisions.refusedTotal).toBe(channel === 'signal' ? payloads.length : refusedInWorkflow);
      expect(record.decisions.refused.length).toBeLessThanOrEqual(LIMITS.refusedDecisionsKept);
      if (channel === 'update') expect(validatorRejected).toBeGreaterThan(payloads.length / 2);
      expect(await failedWorkflowTasks(attemptId)).toEqual([]);

      // Still decidable: the genuine approval counts and the refund runs.
      await handle.signal(decisionSignal, forgeDecision(plane.key('alice'), { attemptId, proposalHash, human: 'alice' }));
      expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('SUCCEEDED');
      expect(await failedWorkflowTasks(attemptId)).toEqual([]);
    });
  }
});

describe('invalid and oversized proposals start nothing', () => {
  it('the client refuses every invalid proposal (EcpError naming the field) and no workflow appears in visibility', async () => {
    const before = await count();
    const base = refund(7_500);
    const invalid = fc.sample(
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...Object.keys(base)), fc.jsonValue({ maxDepth: 1 }))
          .map(([field, value]) => ({ ...base, [field]: value })),
        fc
          .tuple(fc.constantFrom('orderId', 'amount', 'reason', 'extra'), fc.jsonValue({ maxDepth: 1 }))
          .map(([field, value]) => ({ ...base, parameters: { ...base.parameters, [field]: value } })),
        fc.constantFrom(
          { ...base, agent: 'mallory-bot' },
          { ...base, actionType: 'payments.steal' },
          { ...base, parameters: { ...base.parameters, amount: -5 } },
        ),
      ),
      { seed: SEED, numRuns: 120 },
    );
    let refused = 0;
    for (const proposal of invalid) {
      const error = await plane.ecp.propose(proposal as ProposalInput).then(
        async (r) => {
          await plane.ecp.client.workflow.getHandle(r.attemptId).cancel();
          return null;
        },
        (e: unknown) => e,
      );
      if (error === null) continue; // The mutation happened to produce a valid proposal.
      expect(error).toBeInstanceOf(EcpError);
      expect((error as EcpError).field, (error as Error).message).toBeTruthy();
      refused++;
    }
    expect(refused).toBeGreaterThan(80);
    const started = invalid.length - refused;
    expect(await count()).toBe(before + started);
  });

  it(`an oversized proposal is refused before it reaches Temporal, naming the ${LIMITS.proposalBytes}-byte limit`, async () => {
    const before = await count();
    for (const size of [LIMITS.proposalBytes + 1, 1_000_000, 3_000_000]) {
      const big = refund(7_500, 'order-1001', {});
      const error = await plane.ecp
        .propose({ ...big, parameters: { ...big.parameters, reason: 'x'.repeat(size) } })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'too_large', field: 'parameters' });
      expect((error as Error).message).toContain(String(LIMITS.proposalBytes));
    }
    expect(await count()).toBe(before);
  });
});
