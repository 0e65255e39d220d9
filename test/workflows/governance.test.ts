/**
 * Governance controls (issue 13, docs/governance.md) on a real dev server: break-glass override and its refusals,
 * ratification, escalation chains and reminders, and the early re-check on `controlsChanged`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../audit/pack/export';
import { verifyPack } from '../../audit/pack/verify';
import { signDecision } from '../../client/keys';
import { controlsChangedSignal, type AttemptRecord, type RefusalCode, type Verdict } from '../../common';
import { renderRecord } from '../../cli/recordView';
import { refund, strangerKey, waitForStatus } from '../helpers/attempts';
import { runEcp } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { clone, failedChecks, recordOf, redigestRecord, reseal } from '../audit/helpers';
import { GOVERNANCE_POLICIES, governed } from '../replay/governanceScenarios';

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane({ policies: { 'governance.cedar': GOVERNANCE_POLICIES } });
});
afterAll(async () => {
  await plane?.teardown();
});

function decision(
  record: AttemptRecord,
  human: string,
  verdict: Verdict,
  fields: { reason?: string; overrides?: string[]; key?: ReturnType<TestPlane['key']> } = {},
) {
  return signDecision(
    {
      v: 1,
      attemptId: record.attemptId,
      proposalHash: record.proposalHash,
      verdict,
      human,
      reason: fields.reason ?? '',
      decidedAt: new Date().toISOString(),
      ...(fields.overrides ? { overrides: fields.overrides } : {}),
    },
    fields.key ?? plane.key(human),
  );
}

const ranFor = (attemptId: string) => plane.target.effects.filter((e) => e.idempotencyKey === attemptId).length;

describe('break-glass override', () => {
  it('an overridable forbid waits for an override; the right group with a justification overrides it; flagged everywhere; the pack verifies', async () => {
    const { attemptId } = await plane.ecp.propose(governed('outage'));
    const waiting = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    expect(waiting.advice?.verdict).toBe('require_approval');
    expect(waiting.requirements).toEqual([
      expect.objectContaining({ policyId: 'refunds.outage-forbid', kind: 'override', overrideBy: ['sre', 'support'], met: false }),
    ]);

    const cli = await runEcp(plane, ['override', attemptId, '--as', 'bob', '--justification', 'incident 4711: customer locked out']);
    expect(cli.stderr).toContain('OVERRIDDEN');
    expect(cli.code).toBe(0);
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(ranFor(attemptId)).toBe(1);
    expect(record.decisions.accepted).toEqual([
      expect.objectContaining({ human: 'bob', verdict: 'override', reason: 'incident 4711: customer locked out' }),
    ]);
    expect(record.decisions.accepted[0]!.statement.overrides).toEqual(['refunds.outage-forbid']);
    expect(record.requirements[0]).toMatchObject({ overriddenBy: ['bob'], met: true });
    expect(record.timeline.find((t) => t.event === 'overridden')?.note).toContain('OVERRIDDEN by bob');
    // The re-check still ran, with fresh advice: it still requires the override, which still stands.
    expect(record.enforcement).toMatchObject({ verdict: 'execute', recheckAdvice: { verdict: 'require_approval' } });

    expect(renderRecord(record)).toContain('OVERRIDDEN by bob (refunds.outage-forbid): incident 4711');
    const show = await runEcp(plane, ['show', attemptId]);
    expect(show.stdout).toContain('OVERRIDDEN');
    const listed = await runEcp(plane, ['audit', 'list', '--overridden', '--json']);
    const rows = JSON.parse(listed.stdout) as Array<{ attemptId: string }>;
    expect(rows.map((r) => r.attemptId)).toContain(attemptId);
    expect(rows.every((r) => r.attemptId !== 'x')).toBe(true);

    const pack = await exportEvidencePack(plane.ecp, attemptId);
    const verified = await verifyPack(pack);
    expect(failedChecks(verified)).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(verified.checks.find((c) => c.name === 'OVERRIDDEN by bob')?.detail).toContain('incident 4711');

    // Tampering with the override: a milder justification (digests recomputed) no longer matches what bob signed.
    const tampered = clone(pack);
    const override = recordOf(tampered).decisions.accepted[0]!;
    override.reason = 'routine';
    override.statement = { ...override.statement, reason: 'routine' };
    redigestRecord(recordOf(tampered));
    const failed = failedChecks(await verifyPack(reseal(tampered), { replay: false }));
    expect(failed).toContain('decision[0] bob override');
    // Or naming a forbid the advice does not mark overridable (a forger re-signing is caught by the signature check).
    const widened = clone(pack);
    const statement = recordOf(widened).decisions.accepted[0]!.statement;
    statement.overrides = ['refunds.outage-forbid', 'refunds.never-exceed-order'];
    redigestRecord(recordOf(widened));
    const failedWidened = failedChecks(await verifyPack(reseal(widened), { replay: false }));
    expect(failedWidened).toEqual(expect.arrayContaining(['decision[0] bob override', 'authority (separation of duties, quorum)']));
  });

  it('refuses an override from the owner, the proposer, a wrong group, without justification, or of a non-overridable forbid', async () => {
    const { attemptId } = await plane.ecp.propose(governed('outage'));
    const record = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const forbid = ['refunds.outage-forbid'];
    const attempts: Array<[string, ReturnType<typeof decision>, RefusalCode]> = [
      ['owner (carol, in support)', decision(record, 'carol', 'override', { reason: 'mine', overrides: forbid }), 'self_approval'],
      [
        'proposer (the agent)',
        decision(record, 'refund-bot', 'override', { reason: 'me', overrides: forbid, key: strangerKey() }),
        'agent_cannot_decide',
      ],
      [
        'wrong group (alice, finance)',
        decision(record, 'alice', 'override', { reason: 'urgent', overrides: forbid }),
        'not_in_override_group',
      ],
      ['no justification', decision(record, 'bob', 'override', { reason: '  ', overrides: forbid }), 'justification_required'],
      [
        'a non-overridable forbid',
        decision(record, 'bob', 'override', { reason: 'urgent', overrides: ['refunds.never-exceed-order'] }),
        'not_overridable',
      ],
      ['an approval where only an override counts', decision(record, 'bob', 'approve'), 'not_in_required_group'],
    ];
    for (const [what, signed, code] of attempts) {
      const answer = await plane.ecp.submitDecision(attemptId, signed);
      expect({ what, accepted: answer.accepted, code: answer.code }).toEqual({ what, accepted: false, code });
    }
    const still = await plane.ecp.getRecord(attemptId);
    expect(still.status).toBe('AWAITING_DECISION');
    expect(still.decisions.accepted).toEqual([]);
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
    expect(ranFor(attemptId)).toBe(0);
  });

  it('a forbid without @override_by stays a hard deny, even where an overridable one also applies', async () => {
    // 20 000 exceeds what order-1002 (2 500) has left: refunds.never-exceed-order, which no override can lift.
    const { attemptId } = await plane.ecp.propose(governed('outage', 20_000, 'order-1002'));
    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('DENIED');
    expect(record.advice?.reasons.join(' ')).toContain('refunds.never-exceed-order');
    expect(record.timeline.map((t) => t.status)).not.toContain('AWAITING_DECISION');
  });

  it('ratification: a second human of the ratifying group countersigns after execution; a missed window is flagged', async () => {
    const ratified = await plane.ecp.propose(governed('ratify'));
    const missed = await plane.ecp.propose(governed('ratify'));
    for (const { attemptId } of [ratified, missed]) {
      const record = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
      const answer = await plane.ecp.submitDecision(
        attemptId,
        decision(record, 'bob', 'override', { reason: 'payment rail down', overrides: ['refunds.ratified-forbid'] }),
      );
      expect(answer.accepted).toBe(true);
    }
    const executed = await waitForStatus(plane.ecp, ratified.attemptId, 'SUCCEEDED');
    expect(executed.governance?.ratification).toMatchObject({ groups: ['finance'], ratifiedBy: null });
    // The overrider cannot ratify their own override; a finance member can, after execution.
    expect((await plane.ecp.submitDecision(ratified.attemptId, decision(executed, 'bob', 'ratify'))).code).toBe('not_in_ratify_group');
    const answer = await plane.ecp.decide(ratified.attemptId, { human: 'alice', verdict: 'ratify', privateKey: plane.key('alice') });
    expect(answer).toMatchObject({ accepted: true, status: 'SUCCEEDED' });

    const good = await plane.ecp.awaitOutcome(ratified.attemptId);
    expect(good.governance?.ratification).toMatchObject({ ratifiedBy: 'alice' });
    expect(good.timeline.map((t) => t.event).filter(Boolean)).toEqual(['overridden', 'ratified']);
    const goodPack = await verifyPack(await exportEvidencePack(plane.ecp, ratified.attemptId));
    expect(goodPack.ok).toBe(true);
    expect(goodPack.checks.find((c) => c.name === 'override ratification')).toMatchObject({ ok: true });

    const bad = await plane.ecp.awaitOutcome(missed.attemptId);
    expect(bad.status).toBe('SUCCEEDED');
    expect(bad.governance?.ratification).toMatchObject({ ratifiedBy: null });
    expect(bad.timeline.find((t) => t.event === 'ratification_missed')?.note).toContain('not ratified');
    expect(Date.parse(bad.timeline.at(-1)!.at)).toBeGreaterThanOrEqual(Date.parse(bad.governance!.ratification!.until));
    const badPack = await verifyPack(await exportEvidencePack(plane.ecp, missed.attemptId));
    expect(badPack.ok).toBe(true); // legitimate authority, but flagged:
    expect(badPack.checks.find((c) => c.name === 'override ratification')).toMatchObject({ ok: false, advisory: true });
    expect(badPack.checks.find((c) => c.name === 'override ratification')?.detail).toContain('UNRATIFIED');
    expect(renderRecord(bad)).toContain('NOT RATIFIED');
  });
});

describe('escalation and reminders', () => {
  it('first group silent → escalates along a chain of two (widening) → the second escalation group decides → executes once', async () => {
    const { attemptId } = await plane.ecp.propose(governed('escalate'));
    const record = await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const start = Date.parse(record.timeline.find((t) => t.status === 'AWAITING_DECISION')!.at);
    // Before the chain reaches sre, bob's approval does not count.
    const early = await plane.ecp.submitDecision(attemptId, decision(record, 'bob', 'approve'));
    expect(early.code).toBe('not_in_required_group');
    expect((await plane.ecp.listPending({ human: 'bob' })).map((a) => a.attemptId)).not.toContain(attemptId);

    // Step 1 (3 s) adds support (only carol, who owns the agent); step 2 (6 s) adds sre.
    let escalated = record;
    for (let i = 0; i < 100 && (escalated.governance?.escalations.length ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      escalated = await plane.ecp.getRecord(attemptId);
    }
    expect(escalated.governance?.escalations.map((e) => [e.step, e.groups])).toEqual([
      [1, ['support']],
      [2, ['sre']],
    ]);
    expect(escalated.requirements[0]).toMatchObject({ groups: ['finance', 'support', 'sre'], escalatedTo: ['support', 'sre'] });
    expect(Date.parse(escalated.governance!.escalations[1]!.at) - start).toBeGreaterThanOrEqual(6_000);
    // The reminder 36 s before the 40 s deadline came first (at 4 s).
    expect(escalated.governance?.reminders).toEqual([expect.objectContaining({ beforeSeconds: 36 })]);
    expect(escalated.timeline.filter((t) => t.event).map((t) => t.event)).toEqual(['escalated', 'reminder', 'escalated']);
    // The inbox follows: bob (sre) now sees it.
    let pending: string[] = [];
    for (let i = 0; i < 50 && !pending.includes(attemptId); i++) {
      pending = (await plane.ecp.listPending({ human: 'bob' })).map((a) => a.attemptId);
      if (!pending.includes(attemptId)) await new Promise((r) => setTimeout(r, 200));
    }
    expect(pending).toContain(attemptId);
    // `ecp pending` marks it escalated, as the console's inbox does.
    const cli = await runEcp(plane, ['pending', '--as', 'bob']);
    expect(cli.stdout).toMatch(new RegExp(`${attemptId}.*finance, sre, support \\(escalated to sre, support\\)`));
    const json = JSON.parse((await runEcp(plane, ['pending', '--as', 'bob', '--json'])).stdout) as Array<{
      attemptId: string;
      escalatedTo: string[];
    }>;
    expect(json.find((a) => a.attemptId === attemptId)?.escalatedTo).toEqual(['sre', 'support']);

    const answer = await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
    expect(answer.accepted).toBe(true);
    const done = await plane.ecp.awaitOutcome(attemptId);
    expect(done.status).toBe('SUCCEEDED');
    expect(ranFor(attemptId)).toBe(1);
    const pack = await verifyPack(await exportEvidencePack(plane.ecp, attemptId));
    expect(failedChecks(pack)).toEqual([]);
  });
});

describe('controlsChanged: the early re-check while waiting', () => {
  it('a waiting attempt whose fresh context now denies closes DENIED at once on the signal — and only on it', async () => {
    const order = plane.target.orders.get('order-1003')!;
    const { attemptId } = await plane.ecp.propose(refund(6_000, 'order-1003'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    // Fresh facts would now deny (refunds.never-exceed-order): without the signal the attempt keeps waiting.
    order.refunded = order.total - 1_000;
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await plane.ecp.getRecord(attemptId)).status).toBe('AWAITING_DECISION');

    const sent = Date.now();
    await plane.ecp.client.workflow.getHandle(attemptId).signal(controlsChangedSignal);
    const record = await plane.ecp.awaitOutcome(attemptId);
    const tookMs = Date.now() - sent;
    expect(record.status).toBe('DENIED');
    expect(record.timeline.at(-1)?.note).toMatch(
      /^re-check before enforcement: policy now denies: forbidden by refunds.never-exceed-order/,
    );
    expect(record.enforcement).toMatchObject({ verdict: 'blocked' });
    expect(record.governance?.controlRechecks).toBe(1);
    expect(ranFor(attemptId)).toBe(0);
    expect(tookMs).toBeLessThan(5_000);
    const pack = await verifyPack(await exportEvidencePack(plane.ecp, attemptId));
    expect(failedChecks(pack)).toEqual([]);
  });

  it('when the fresh context still allows waiting, the attempt keeps waiting and still takes its decision', async () => {
    const { attemptId } = await plane.ecp.propose(refund(6_000, 'order-1001'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.client.workflow.getHandle(attemptId).signal(controlsChangedSignal);
    let record = await plane.ecp.getRecord(attemptId);
    for (let i = 0; i < 50 && (record.governance?.controlRechecks ?? 0) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      record = await plane.ecp.getRecord(attemptId);
    }
    expect(record.status).toBe('AWAITING_DECISION');
    expect(record.timeline.at(-1)).toMatchObject({ event: 'controls_changed', note: 'controls changed; re-check: may keep waiting' });
    await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('SUCCEEDED');
  });
});
