/**
 * The kill switch (issue 13, docs/kill-switch-and-notifications.md) on a real dev server: signed freezes through the
 * singleton controls workflow; new attempts DENIED citing the freeze; a waiting attempt closes promptly; a running
 * cancellable executor is stopped, a non-cancellable one finishes truthfully; unfreeze restores; forged, unauthorised,
 * altered and replayed freezes are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { prebundleWorkflows } from '../../workflows/bundle';
import { readControls, sendControl, signFreeze } from '../../client/controls';
import { CONTROLS_WORKFLOW_ID, EcpError, type FreezeScope, type ProposalInput } from '../../common';
import { refund, strangerKey, uniqueKey, waitForStatus } from '../helpers/attempts';
import { runEcp } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';

const started: string[] = [];
const finished: string[] = [];

let plane: TestPlane;
beforeAll(async () => {
  const ops = (cancellable: boolean) => ({
    parameters: { type: 'object', required: ['ms'], properties: { ms: { type: 'integer' } } },
    executor: { custom: 'sleepy' },
    retry: { maximumAttempts: 1 },
    timeout: '60s',
    cancellable,
  });
  plane = await startTestPlane({
    config: { controls: { freezeGroup: 'sre', freezeCache: '1s' } },
    actionTypes: { 'ops.cancellable': ops(true), 'ops.steady': ops(false) },
    policies: {
      'ops.cedar': `@id("ops.auto") permit (principal, action in [Action::"ops.cancellable", Action::"ops.steady"], resource);\n`,
    },
    schemaExtra: ['ops.cancellable', 'ops.steady']
      .map(
        (a) =>
          `action "${a}" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: { ms: Long }, claims: {}, facts: {} } };`,
      )
      .join('\n'),
    extensions: {
      executors: {
        sleepy: async ({ attemptId, proposal, signal }) => {
          started.push(attemptId);
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, Number(proposal.parameters.ms));
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
            });
          });
          finished.push(attemptId);
          return { slept: proposal.parameters.ms as number };
        },
      },
    },
  });
}, 180_000);
afterAll(async () => plane?.teardown());

const freeze = (scope: FreezeScope, human = 'bob', reason = 'incident 4711') =>
  sendControl(plane.ecp.client, signFreeze({ op: 'freeze', scope, reason, human }, plane.key(human)));
/** Lifts a freeze and waits out the workers' freeze cache (freezeCache: 1s), after which new attempts see it. */
async function unfreeze(scope: FreezeScope, human = 'bob', reason = 'resolved') {
  const entry = await sendControl(plane.ecp.client, signFreeze({ op: 'unfreeze', scope, reason, human }, plane.key(human)));
  await new Promise((r) => setTimeout(r, 1_100));
  return entry;
}
const ops = (type: 'ops.cancellable' | 'ops.steady', ms: number): ProposalInput => ({
  agent: 'deploy-bot',
  actionType: type,
  resource: 'job-1',
  parameters: { ms },
  justification: 'nightly job',
  idempotencyKey: uniqueKey('ops'),
});

describe('kill switch', () => {
  it('refuses forged, unauthorised, altered, stale and replayed freezes, and changes nothing', async () => {
    const scope: FreezeScope = { kind: 'all' };
    // alice is a real human with a real key, but not in the freeze group (sre).
    await expect(freeze(scope, 'alice')).rejects.toThrow(/not in the freeze group "sre"/);
    // A stranger's key presented under bob's name and fingerprint.
    const forged = signFreeze({ op: 'freeze', scope, reason: 'x', human: 'bob' }, strangerKey());
    const bobs = signFreeze({ op: 'freeze', scope, reason: 'x', human: 'bob' }, plane.key('bob'));
    await expect(sendControl(plane.ecp.client, { ...forged, key: bobs.key })).rejects.toThrow(/does not verify/);
    await expect(sendControl(plane.ecp.client, forged)).rejects.toThrow(/not a registered key of bob/);
    // bob's genuine signature over one statement, presented with another scope.
    const altered = { ...bobs, statement: { ...bobs.statement, scope: { kind: 'agent' as const, agent: 'refund-bot' } } };
    await expect(sendControl(plane.ecp.client, altered)).rejects.toThrow(/does not verify/);
    // A statement signed long ago (captured and replayed later).
    const stale = signFreeze({ op: 'freeze', scope, reason: 'x', human: 'bob', at: new Date(Date.now() - 3_600_000) }, plane.key('bob'));
    await expect(sendControl(plane.ecp.client, stale)).rejects.toThrow(/from the plane's clock/);
    // Malformed input names the field.
    await expect(
      plane.ecp.client.workflow.getHandle(CONTROLS_WORKFLOW_ID).executeUpdate('control', { args: [{ ...bobs, signature: 'zz' }] }),
    ).rejects.toThrow(WorkflowUpdateFailedError);
    const refusal = await sendControl(plane.ecp.client, { ...bobs, signature: 'zz' }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(EcpError);
    expect((refusal as EcpError).message).toMatch(/field "signature"/);
    expect((await readControls(plane.ecp.client)).freezes).toEqual([]);

    // The genuine one is taken once; the same statement again is a replay.
    await sendControl(plane.ecp.client, bobs);
    await unfreeze(scope);
    await expect(sendControl(plane.ecp.client, bobs)).rejects.toThrow(/already used/);
    expect((await readControls(plane.ecp.client)).freezes).toEqual([]);

    // The CLI signs with the keys dir and exits "refused" (3) for an unauthorised human.
    const cli = await runEcp(plane, ['freeze', '--all', '--reason', 'try', '--as', 'alice']);
    expect(cli.code).toBe(3);
    expect(cli.stderr).toMatch(/not in the freeze group/);
  }, 60_000);

  it('denies new attempts of a frozen scope citing the freeze; other scopes run; unfreeze restores; the log says who, when, why', async () => {
    const cli = await runEcp(plane, ['freeze', '--agent', 'refund-bot', '--reason', 'refund loop, INC-4711', '--as', 'bob']);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/FROZEN: agent refund-bot/);
    const denied = await plane.ecp.awaitOutcome((await plane.ecp.propose(refund(100))).attemptId);
    expect(denied.status).toBe('DENIED');
    expect(denied.context?.problems.join(' ')).toMatch(/^frozen: agent refund-bot by bob at .* \("refund loop, INC-4711"\)$/);
    expect(plane.target.effects.filter((e) => e.kind === 'refund')).toHaveLength(0);
    // Another agent is not frozen.
    expect((await plane.ecp.awaitOutcome((await plane.ecp.propose(ops('ops.steady', 10))).attemptId)).status).toBe('SUCCEEDED');

    const list = await runEcp(plane, ['freeze', '--list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/agent refund-bot\s*│\s*bob\s*│[^│]+│\s*refund loop, INC-4711/);

    const lifted = await runEcp(plane, ['unfreeze', '--agent', 'refund-bot', '--reason', 'agent fixed', '--as', 'erin']);
    expect(lifted.code).toBe(0);
    await new Promise((r) => setTimeout(r, 1_100)); // the workers' freeze cache (freezeCache: 1s)
    expect((await plane.ecp.awaitOutcome((await plane.ecp.propose(refund(100))).attemptId)).status).toBe('SUCCEEDED');
    const state = await readControls(plane.ecp.client);
    expect(state.freezes).toEqual([]);
    expect(state.log.slice(-2).map((e) => [e.op, e.human, e.reason])).toEqual([
      ['freeze', 'bob', 'refund loop, INC-4711'],
      ['unfreeze', 'erin', 'agent fixed'],
    ]);
  }, 90_000);

  it('closes an attempt waiting for a decision promptly when its scope is frozen; nothing runs', async () => {
    const { attemptId } = await plane.ecp.propose(refund(9_000)); // > 50 EUR: needs finance
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const scope: FreezeScope = { kind: 'actionType', actionType: 'payments.refund' };
    const t0 = Date.now();
    await freeze(scope);
    const record = await plane.ecp.awaitOutcome(attemptId);
    const closedMs = Date.now() - t0;
    await unfreeze(scope);
    expect(record.status).toBe('DENIED');
    expect(record.enforcement?.blockedReason).toMatch(/frozen: action type payments\.refund by bob/);
    expect(record.outcome).toBeNull();
    expect(closedMs).toBeLessThan(10_000); // its deadline is hours away
    expect(plane.target.effects.filter((e) => e.kind === 'refund' && e.idempotencyKey === attemptId)).toHaveLength(0);
  }, 60_000);

  it('stops a running executor of a frozen scope when its action type is cancellable, and records it', async () => {
    const { attemptId } = await plane.ecp.propose(ops('ops.cancellable', 30_000));
    await waitForStatus(plane.ecp, attemptId, 'EXECUTING');
    while (!started.includes(attemptId)) await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await freeze({ kind: 'agent', agent: 'deploy-bot' });
    const record = await plane.ecp.awaitOutcome(attemptId);
    const stoppedMs = Date.now() - t0;
    await unfreeze({ kind: 'agent', agent: 'deploy-bot' });
    expect(record.status).toBe('FAILED');
    expect(record.outcome).toMatchObject({ ok: false, error: { type: 'Frozen' } });
    expect(record.outcome?.ok === false && record.outcome.error.message).toMatch(
      /cancelled by the kill switch: frozen: agent deploy-bot by bob/,
    );
    expect(finished).not.toContain(attemptId);
    expect(stoppedMs).toBeLessThan(10_000);
  }, 60_000);

  it('lets a running executor of a non-cancellable action type finish, and records its outcome truthfully', async () => {
    const { attemptId } = await plane.ecp.propose(ops('ops.steady', 3_000));
    await waitForStatus(plane.ecp, attemptId, 'EXECUTING');
    while (!started.includes(attemptId)) await new Promise((r) => setTimeout(r, 50));
    await freeze({ kind: 'agent', agent: 'deploy-bot' });
    const record = await plane.ecp.awaitOutcome(attemptId);
    await unfreeze({ kind: 'agent', agent: 'deploy-bot' });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.outcome).toMatchObject({ ok: true, result: { slept: 3_000 } });
    expect(finished).toContain(attemptId);
  }, 60_000);

  it('the freeze log (the controls workflow history: accepted and refused requests) replays deterministically', async () => {
    const history = await plane.ecp.client.workflow.getHandle(CONTROLS_WORKFLOW_ID).fetchHistory();
    const updates = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length ?? 0;
    expect(updates).toBeGreaterThan(10);
    await expect(
      Worker.runReplayHistory({ workflowBundle: await prebundleWorkflows() }, history, CONTROLS_WORKFLOW_ID),
    ).resolves.toBeUndefined();
  }, 60_000);
});
