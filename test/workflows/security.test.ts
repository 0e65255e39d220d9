import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { decideUpdate, decisionSignal, keyFingerprint, type RefusalCode, type SignedDecision } from '../../common';
import { publicKeyHex } from '../../client/keys';
import { deploy, forgeDecision, refund, strangerKey, waitForStatus } from '../helpers/attempts';
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

async function pendingRefund(amount = 7_500) {
  const { attemptId, proposalHash } = await plane.ecp.propose(refund(amount));
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  return { attemptId, proposalHash };
}

const send = (attemptId: string, decision: unknown) =>
  plane.ecp.client.workflow.getHandle(attemptId).executeUpdate(decideUpdate, { args: [decision as never] });

describe('refused decisions change nothing; attributable refusals stay in the record', () => {
  it('refuses every forged, misdirected or unauthorised decision with its reason', async () => {
    const a = await pendingRefund();
    const b = await pendingRefund(7_600);
    const stranger = strangerKey();
    // [label, decision, code, recorded]: a refusal is recorded when someone with a registered key stands behind it
    // (or the agent itself tried); the rest are refused by the update's validator and leave no trace in history.
    const attempts: Array<[string, unknown, RefusalCode, boolean]> = [
      // The agent itself "approves" (it has Temporal client access), with a key of its own.
      ['agent approves itself', forgeDecision(stranger, { ...a, human: 'refund-bot' }), 'agent_cannot_decide', true],
      // The agent's owner signs, with the owner's real key.
      ['owner approves own agent', forgeDecision(plane.key('carol'), { ...a, human: 'carol' }), 'self_approval', true],
      // bob's key, claiming to be alice: the decision names bob's key, which is not alice's.
      ['signed with bob key as alice', forgeDecision(plane.key('bob'), { ...a, human: 'alice' }), 'unknown_key', false],
      ['unregistered key as alice', forgeDecision(stranger, { ...a, human: 'alice' }), 'unknown_key', false],
      // An unregistered key that claims to be alice's registered one: the one signature check fails.
      [
        'unregistered key naming alice key',
        { ...forgeDecision(stranger, { ...a, human: 'alice' }), key: keyFingerprint(publicKeyHex(plane.key('alice'))) },
        'bad_signature',
        false,
      ],
      ['unknown human', forgeDecision(stranger, { ...a, human: 'mallory' }), 'unknown_human', false],
      ['human outside the required group', forgeDecision(plane.key('bob'), { ...a, human: 'bob' }), 'not_in_required_group', true],
      // Alice's genuine approval of attempt B, replayed on attempt A.
      ['decision copied from another attempt', forgeDecision(plane.key('alice'), { ...b, human: 'alice' }), 'wrong_attempt', false],
      // Alice signs for attempt A but for another proposal (edited arguments).
      [
        'different proposal hash',
        forgeDecision(plane.key('alice'), { attemptId: a.attemptId, proposalHash: b.proposalHash, human: 'alice' }),
        'wrong_proposal_hash',
        false,
      ],
    ];
    for (const [label, decision, code] of attempts) {
      const result = await plane.ecp.submitDecision(a.attemptId, decision as SignedDecision);
      expect({ label, accepted: result.accepted, code: result.code }).toEqual({ label, accepted: false, code });
    }
    // A tampered signature: a genuine decision with one flipped hex digit.
    const genuine = forgeDecision(plane.key('alice'), { ...a, human: 'alice' });
    const flipped = { ...genuine, signature: (genuine.signature[0] === '0' ? '1' : '0') + genuine.signature.slice(1) };
    expect((await plane.ecp.submitDecision(a.attemptId, flipped)).code).toBe('bad_signature');
    // A genuine statement with edited fields after signing.
    expect((await plane.ecp.submitDecision(a.attemptId, { ...genuine, statement: { ...genuine.statement, reason: 'edited' } })).code).toBe(
      'bad_signature',
    );

    const record = await plane.ecp.getRecord(a.attemptId);
    expect(record.status).toBe('AWAITING_DECISION');
    expect(record.decisions.accepted).toHaveLength(0);
    expect(record.decisions.refused.map((r) => r.code)).toEqual(attempts.filter(([, , , recorded]) => recorded).map(([, , c]) => c));
    expect(plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId)).toHaveLength(0);

    // The genuine decision still works afterwards.
    expect((await send(a.attemptId, genuine)).accepted).toBe(true);
    expect((await plane.ecp.awaitOutcome(a.attemptId)).status).toBe('SUCCEEDED');
    await plane.ecp.client.workflow.getHandle(b.attemptId).cancel();
  });

  it('does not count the same human twice toward a quorum', async () => {
    const { attemptId, proposalHash } = await plane.ecp.propose(deploy('production'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    expect((await send(attemptId, forgeDecision(plane.key('bob'), { attemptId, proposalHash, human: 'bob' }))).accepted).toBe(true);
    const again = await send(attemptId, forgeDecision(plane.key('bob'), { attemptId, proposalHash, human: 'bob', reason: 'really' }));
    expect(again).toMatchObject({ accepted: false, code: 'duplicate_approver' });
    // dave is an SRE but owns deploy-bot.
    expect((await send(attemptId, forgeDecision(plane.key('dave'), { attemptId, proposalHash, human: 'dave' }))).code).toBe(
      'self_approval',
    );
    const record = await plane.ecp.getRecord(attemptId);
    expect(record.status).toBe('AWAITING_DECISION');
    expect(record.requirements[0]).toMatchObject({ approvedBy: ['bob'], met: false });
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
  });

  it('records refused and malformed decisions sent as fire-and-forget signals', async () => {
    const a = await pendingRefund();
    const handle = plane.ecp.client.workflow.getHandle(a.attemptId);
    await handle.signal(decisionSignal, forgeDecision(strangerKey(), { ...a, human: 'refund-bot' }));
    await handle.signal(decisionSignal, { statement: { human: 'refund-bot', verdict: 'approve' } } as never);
    await expect
      .poll(async () => (await plane.ecp.getRecord(a.attemptId)).decisions.refused.map((r) => [r.code, r.via]), { timeout: 10_000 })
      .toEqual([
        ['agent_cannot_decide', 'signal'],
        ['malformed', 'signal'],
      ]);
    await handle.signal(decisionSignal, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    expect((await plane.ecp.awaitOutcome(a.attemptId)).status).toBe('SUCCEEDED');
  });

  it('rejects a malformed update in its validator, naming the field', async () => {
    const a = await pendingRefund();
    const error = (await send(a.attemptId, { statement: { v: 1 }, signature: 'zz' }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error.cause as Error | undefined)?.message).toBe('invalid decision: field "statement.attemptId" is required');
    // Nothing about a shape-rejected update reaches the record.
    expect((await plane.ecp.getRecord(a.attemptId)).decisions.refusedTotal).toBe(0);
    await plane.ecp.client.workflow.getHandle(a.attemptId).cancel();
  });
});

describe('stale authority never runs', () => {
  it('does not execute when verified facts change between approval and execution', async () => {
    const a = await pendingRefund(8_000);
    plane.target.orders.get('order-1001')!.refunded = 10_000; // Someone else refunded most of the order meanwhile.
    try {
      expect((await send(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }))).accepted).toBe(true);
      const record = await plane.ecp.awaitOutcome(a.attemptId);
      expect(record.status).toBe('DENIED');
      expect(record.enforcement).toMatchObject({ verdict: 'blocked' });
      expect(record.enforcement?.blockedReason).toMatch(/policy now denies.*refunds.never-exceed-order/);
      expect(plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId)).toHaveLength(0);
    } finally {
      plane.target.orders.get('order-1001')!.refunded = 0;
    }
  });

  it('does not execute when policy tightens after approval (now needs approvals that were not given)', async () => {
    const a = await pendingRefund(8_100);
    plane.setPolicy(
      'zz-tighter.cedar',
      `@id("refunds.large-needs-two-finance")\n@requires_approval("finance")\n@quorum("2")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount > 8000 };\n`,
    );
    plane.runtime.reload();
    try {
      expect((await send(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }))).accepted).toBe(true);
      const record = await plane.ecp.awaitOutcome(a.attemptId);
      expect(record.status).toBe('DENIED');
      expect(record.enforcement?.blockedReason).toMatch(
        /approvals now required that were not given: refunds.large-needs-two-finance needs 2/,
      );
      expect(record.enforcement?.recheckAdvice?.bundleVersion).not.toBe(record.advice?.bundleVersion);
    } finally {
      plane.setPolicy('zz-tighter.cedar', null);
      plane.runtime.reload();
    }
  });

  it("does not execute when the action type's executor configuration changes after evaluation", async () => {
    const a = await pendingRefund(8_300);
    const file = join(plane.configPath, '..', 'action-types.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('timeout: 15s', 'timeout: 16s'));
    plane.runtime.reload();
    try {
      expect((await send(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }))).accepted).toBe(true);
      const record = await plane.ecp.awaitOutcome(a.attemptId);
      expect(record.status).toBe('DENIED');
      expect(record.enforcement?.blockedReason).toMatch(/the action type's configuration changed since evaluation/);
      expect(plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId)).toHaveLength(0);
    } finally {
      writeFileSync(file, original);
      plane.runtime.reload();
    }
  });

  it("does not execute on an approval whose signer's key was revoked before execution", async () => {
    const a = await pendingRefund(8_200);
    const before = plane.runtime.config.directory.humans.alice!.publicKeys;
    plane.editDirectory((d) => {
      d.humans.alice!.publicKeys = [publicKeyHex(strangerKey())];
    });
    plane.runtime.reload();
    try {
      // Valid against the directory pinned at evaluation, but no longer registered at enforcement.
      expect((await send(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }))).accepted).toBe(true);
      const record = await plane.ecp.awaitOutcome(a.attemptId);
      expect(record.status).toBe('DENIED');
      expect(record.enforcement?.blockedReason).toMatch(/approvals now required that were not given/);
    } finally {
      plane.editDirectory((d) => {
        d.humans.alice!.publicKeys = before;
      });
      plane.runtime.reload();
    }
  });
});
