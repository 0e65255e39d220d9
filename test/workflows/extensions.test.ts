import { ApplicationFailure } from '@temporalio/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import type { ExecutorRequest } from '../../config/runtime';
import { uniqueKey, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

// A custom action type wired through the TypeScript extension point: facts from a custom context provider, side
// effects from a custom executor, retried per the action type's own retry policy.
const calls: ExecutorRequest[] = [];
const failuresBeforeSuccess = new Map<string, number>();
const factFetches = new Map<string, number>();

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane({
    actionTypes: {
      'tickets.close': {
        parameters: {
          type: 'object',
          required: ['ticket', 'mode'],
          properties: { ticket: { type: 'string' }, mode: { enum: ['ok', 'flaky', 'broken', 'escalated'] } },
        },
        context: { custom: 'ticketFacts' },
        executor: { custom: 'closeTicket' },
        retry: { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '1s' },
        timeout: '10s',
      },
    },
    policies: {
      'tickets.cedar':
        `@id("tickets.open-only") permit (principal, action == Action::"tickets.close", resource) when { context.facts.open };\n` +
        `@id("tickets.escalated") @requires_approval("finance") permit (principal, action == Action::"tickets.close", resource) when { context.parameters.mode == "escalated" };\n`,
    },
    extensions: {
      contextProviders: {
        ticketFacts: async ({ proposal }) => {
          // The second fetch for T-slow is the re-check: slow enough to send a decision while it runs.
          const fetches = (factFetches.get(proposal.resource) ?? 0) + 1;
          factFetches.set(proposal.resource, fetches);
          if (proposal.resource === 'T-slow' && fetches === 2) await new Promise((r) => setTimeout(r, 3000));
          return { open: proposal.resource !== 'T-closed', owner: 'support' };
        },
      },
      executors: {
        closeTicket: async (request) => {
          calls.push(request);
          const mode = request.proposal.parameters.mode;
          if (mode === 'broken') throw ApplicationFailure.nonRetryable('ticket system refuses: ticket is locked', 'TicketLocked');
          const left = failuresBeforeSuccess.get(request.attemptId) ?? 2;
          if (mode === 'flaky' && left > 0) {
            failuresBeforeSuccess.set(request.attemptId, left - 1);
            throw new Error('ticket system timed out');
          }
          return { closed: request.proposal.resource };
        },
      },
    },
    schemaExtra: `action "tickets.close" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: { ticket: String, mode: String }, claims: {}, facts: { open: Bool, owner: String } } };\n`,
  });
}, 180_000);
afterAll(async () => plane?.teardown());

const propose = (resource: string, mode: string) =>
  plane.ecp.propose({
    agent: 'refund-bot',
    actionType: 'tickets.close',
    resource,
    parameters: { ticket: resource, mode },
    justification: 'customer confirmed the fix',
    idempotencyKey: uniqueKey('ticket'),
  });

describe('custom context providers and executors', () => {
  it('pins custom facts and runs the custom executor with the attempt ID as idempotency key', async () => {
    const { attemptId, proposalHash } = await propose('T-1', 'ok');
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.context?.facts).toEqual({ open: true, owner: 'support' });
    expect(record.outcome).toMatchObject({ ok: true, result: { closed: 'T-1' } });
    const call = calls.find((c) => c.attemptId === attemptId)!;
    expect(call).toMatchObject({ idempotencyKey: attemptId, proposalHash, proposal: { parameters: { ticket: 'T-1', mode: 'ok' } } });
  });

  it('denies on custom facts', async () => {
    const { attemptId } = await propose('T-closed', 'ok');
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('DENIED');
    expect(calls.some((c) => c.attemptId === attemptId)).toBe(false);
  });

  it("retries a transient executor failure per the action type's retry policy, then succeeds", async () => {
    const { attemptId } = await propose('T-2', 'flaky');
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.attemptId === attemptId)).toHaveLength(3);
    expect(record.context?.actionType?.retry).toMatchObject({ maximumAttempts: 3 });
  });

  it('ends FAILED with the reason on a non-retryable failure, without retrying', async () => {
    const { attemptId } = await propose('T-3', 'broken');
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('FAILED');
    expect(record.outcome).toMatchObject({
      ok: false,
      error: { type: 'TicketLocked', message: 'ticket system refuses: ticket is locked' },
    });
    expect(record.timeline.at(-1)).toMatchObject({ status: 'FAILED', note: 'ticket system refuses: ticket is locked' });
    expect(calls.filter((c) => c.attemptId === attemptId)).toHaveLength(1);
  });

  it('refuses decisions that arrive after the requirements are met, while the re-check runs', async () => {
    const { attemptId } = await propose('T-slow', 'escalated');
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    // Signed up front so that sending it during the re-check needs no query (which would wait for the re-check).
    const lateDecision = await plane.ecp.prepareDecision(attemptId, {
      human: 'alice',
      verdict: 'reject',
      reason: 'changed my mind',
      privateKey: plane.key('alice'),
    });
    expect((await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') })).accepted).toBe(true);
    await expect.poll(() => factFetches.get('T-slow'), { timeout: 5000, interval: 20 }).toBe(2);
    // Temporal delivers the update after the re-check's workflow task; if the executor has finished by then, the
    // attempt closes in that same task and Temporal refuses the update itself. Either way it must not count.
    const late = await plane.ecp.submitDecision(attemptId, lateDecision).catch((err: EcpError) => err);
    if (late instanceof EcpError) expect(late.code).toBe('not_found');
    else expect(late).toMatchObject({ accepted: false, code: 'not_awaiting' });
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => d.verdict)).toEqual(['approve']);
    // A decision too late to count has nobody it could be attributed to yet: the validator refuses it without a trace.
    expect(record.decisions.refused).toEqual([]);
  });

  it('refuses to start a plane whose configuration names an unregistered custom executor', async () => {
    const { PlaneRuntime } = await import('../../config/runtime');
    expect(readFileSync(join(plane.configPath, '..', 'action-types.yaml'), 'utf8')).toContain('closeTicket');
    expect(() => new PlaneRuntime(plane.configPath)).toThrow(/no custom executor "closeTicket" is registered/);
  });
});
