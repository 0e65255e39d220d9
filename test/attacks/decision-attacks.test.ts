import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionSignal, EcpError, type AttemptRecord, type AttemptStatus, type ProposalInput } from '../../common';
import { uniqueKey, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { pool, writeReliability } from '../faults/helpers/report';
import { ATTACKS, planFor, rng, type AttackKind, type Shape, type Step, type Target } from './helpers/attackPlan';

const ATTEMPTS = Number(process.env.ECP_ATTACK_ATTEMPTS ?? 1000);
const SEED = Number(process.env.ECP_ATTACK_SEED ?? 5_000_001);
const EXPIRING_AMOUNT = 6_666;
const BATCH = Number(process.env.ECP_ATTACK_BATCH ?? 100);

let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane({
    policies: {
      // A share of the refunds must be decided within 5 s: they expire, and every decision for them arrives late.
      'zz-attacks-expiring.cedar': `@id("refunds.attack-expiring") @requires_approval("finance") @deadline("5s")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount == ${EXPIRING_AMOUNT} };\n`,
    },
  });
}, 240_000);
afterAll(async () => plane?.teardown());

let serial = 0;
function proposalFor(shape: Shape): ProposalInput {
  const id = `atk-${++serial}`;
  if (shape === 'deploy') {
    plane.target.services.set(id, { currentVersion: '1.0.0', frozen: false });
    return {
      agent: 'deploy-bot',
      actionType: 'deploys.release',
      resource: id,
      parameters: { service: id, version: '2.0.0', environment: 'production' },
      justification: 'attack suite',
      idempotencyKey: uniqueKey('atk'),
    };
  }
  plane.target.orders.set(id, { total: 12_000, refunded: 0, currency: 'EUR', customer: 'Attack' });
  const amount = shape === 'expiring' ? EXPIRING_AMOUNT : 7_500;
  return {
    agent: 'refund-bot',
    actionType: 'payments.refund',
    resource: id,
    parameters: { orderId: id, amount, reason: 'attack suite' },
    justification: 'attack suite',
    idempotencyKey: uniqueKey('atk'),
  };
}

type Fate = { reached: true; code: string | null } | { reached: false; code: 'attempt_closed' };

/** Sends one decision raw: a signal straight to the workflow, or the `decide` update through the client library. */
async function send(attemptId: string, step: Step): Promise<Fate> {
  try {
    if (step.channel === 'signal') {
      await plane.ecp.client.workflow.getHandle(attemptId).signal(decisionSignal, step.decision);
      return { reached: true, code: null };
    }
    const result = await plane.ecp.submitDecision(attemptId, step.decision);
    return { reached: true, code: result.accepted ? null : result.code };
  } catch (err) {
    if ((err instanceof EcpError && err.code === 'not_found') || /already completed/i.test((err as Error).message))
      return { reached: false, code: 'attempt_closed' };
    throw err;
  }
}

interface Row {
  kind: AttackKind | 'genuine';
  what: string;
  expected: string;
  sent: number;
  bySignal: number;
  byUpdate: number;
  refusedAsExpected: number;
  refusedOtherwise: number;
  wronglyAccepted: number;
  counted: number;
  lost: number;
  codes: Record<string, number>;
}

describe(`attack suite: ${ATTEMPTS} attempts awaiting approval, a seeded mix of illegitimate decisions alongside genuine ones`, () => {
  it('counts no illegitimate decision, every genuine one, and refuses each attack with its code', async () => {
    const started0 = Date.now();
    const r = rng(SEED);
    const shapes: Shape[] = Array.from({ length: ATTEMPTS }, () => (r.chance(0.12) ? 'expiring' : r.chance(0.33) ? 'deploy' : 'refund'));
    // In batches, so the attempts in flight stay within the worker's workflow cache (no replay per query) on a small machine.
    const targets: Target[] = [];
    const plans: Step[][] = [];
    const fates: Fate[][] = [];
    const records: AttemptRecord[] = [];
    for (let from = 0; from < ATTEMPTS; from += BATCH) {
      const batch: Target[] = await pool(shapes.slice(from, from + BATCH), 16, async (shape) => ({
        shape,
        ...(await plane.ecp.propose(proposalFor(shape))),
      }));
      await pool(batch, 16, (a) =>
        a.shape === 'expiring' ? plane.ecp.awaitOutcome(a.attemptId) : waitForStatus(plane.ecp, a.attemptId, 'AWAITING_DECISION', 300_000),
      );
      const batchPlans = batch.map((a, i) => planFor(a, batch[(i + 1) % batch.length]!, (h) => plane.key(h), r));
      fates.push(
        ...(await pool(batch, 12, async (a, i) => {
          const out: Fate[] = [];
          for (const step of batchPlans[i]!) out.push(await send(a.attemptId, step));
          return out;
        })),
      );
      records.push(...(await pool(batch, 16, (a) => plane.ecp.awaitOutcome(a.attemptId))));
      targets.push(...batch);
      plans.push(...batchPlans);
    }

    const rows = new Map<string, Row>();
    const row = (kind: AttackKind | 'genuine'): Row => {
      let found = rows.get(kind);
      if (!found) {
        const expected = kind === 'genuine' ? 'counted' : ATTACKS[kind].expect.join(' | ');
        found = {
          kind,
          what: kind === 'genuine' ? 'the required approvers, signed with their registered keys' : ATTACKS[kind].what,
          expected,
          sent: 0,
          bySignal: 0,
          byUpdate: 0,
          refusedAsExpected: 0,
          refusedOtherwise: 0,
          wronglyAccepted: 0,
          counted: 0,
          lost: 0,
          codes: {},
        };
        rows.set(kind, found);
      }
      return found;
    };
    const wrongOutcomes: string[] = [];
    targets.forEach((a, i) => {
      const record: AttemptRecord = records[i]!;
      const refused = [...record.decisions.refused];
      const accepted = [...record.decisions.accepted];
      plans[i]!.forEach((step, k) => {
        const fate = fates[i]![k]!;
        const tally = row(step.kind);
        tally.sent++;
        tally[step.channel === 'signal' ? 'bySignal' : 'byUpdate']++;
        // What the workflow did with it: the next accepted decision if it is this one, else the next refusal.
        let code: string | null;
        if (!fate.reached) code = fate.code;
        else if (accepted[0] && accepted[0].signature === step.decision.signature) {
          accepted.shift();
          code = null;
        } else {
          const refusal = refused.shift();
          code = refusal && refusal.signature === step.decision.signature ? refusal.code : 'lost';
          if (step.channel === 'update' && fate.code !== code) code = `mismatch:${fate.code}/${code}`;
        }
        tally.codes[code ?? 'counted'] = (tally.codes[code ?? 'counted'] ?? 0) + 1;
        if (step.kind === 'genuine') {
          if (code === null) tally.counted++;
          else if (code === 'lost' || code.startsWith('mismatch')) tally.lost++;
          else tally.refusedOtherwise++;
          return;
        }
        if (code === null) tally.wronglyAccepted++;
        else if ((ATTACKS[step.kind].expect as readonly string[]).includes(code)) tally.refusedAsExpected++;
        else if (code === 'lost' || code.startsWith('mismatch')) tally.lost++;
        else tally.refusedOtherwise++;
      });
      const genuine = plans[i]!.filter((s) => s.kind === 'genuine');
      const expected: AttemptStatus =
        a.shape === 'expiring' ? 'EXPIRED' : genuine.some((s) => s.verdict === 'reject') ? 'REJECTED' : 'SUCCEEDED';
      const effects = plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId).length;
      if (record.status !== expected || effects !== (expected === 'SUCCEEDED' ? 1 : 0))
        wrongOutcomes.push(`${a.attemptId} ${a.shape}: ${record.status} (expected ${expected}), ${effects} effects`);
    });

    // Workflow task failures other than Temporal's UnhandledCommand would mean a decision broke the workflow code.
    const taskTrouble = await pool(targets, 16, async (a) => {
      const events = (await plane.ecp.client.workflow.getHandle(a.attemptId).fetchHistory()).events ?? [];
      const failures = events.filter(
        (e) => e.workflowTaskFailedEventAttributes && e.workflowTaskFailedEventAttributes.failure?.message !== 'UnhandledCommand',
      );
      return {
        failed: failures.length,
        timedOut: events.filter((e) => e.workflowTaskTimedOutEventAttributes).length,
        unhandledCommand: events.filter((e) => e.workflowTaskFailedEventAttributes?.failure?.message === 'UnhandledCommand').length,
      };
    });
    const table = [...rows.values()].sort((x, y) => (x.kind === 'genuine' ? 1 : y.kind === 'genuine' ? -1 : x.kind.localeCompare(y.kind)));
    const illegitimate = table.filter((t) => t.kind !== 'genuine');
    const seconds = Math.round((Date.now() - started0) / 1000);
    writeReliability('attacks', {
      suite: 'attacks',
      command: 'npm run test:attacks',
      seed: SEED,
      attempts: ATTEMPTS,
      shapes: {
        refund: shapes.filter((s) => s === 'refund').length,
        deploy: shapes.filter((s) => s === 'deploy').length,
        expiring: shapes.filter((s) => s === 'expiring').length,
      },
      decisionsSent: table.reduce((n, t) => n + t.sent, 0),
      illegitimateSent: illegitimate.reduce((n, t) => n + t.sent, 0),
      illegitimateAccepted: illegitimate.reduce((n, t) => n + t.wronglyAccepted, 0),
      genuineSent: rows.get('genuine')?.sent ?? 0,
      genuineCounted: rows.get('genuine')?.counted ?? 0,
      lost: table.reduce((n, t) => n + t.lost, 0),
      wrongOutcomes: wrongOutcomes.length,
      workflowTaskFailures: taskTrouble.reduce((n, t) => n + t.failed, 0),
      workflowTaskTimeoutsUnderLoad: taskTrouble.reduce((n, t) => n + t.timedOut, 0),
      unhandledCommandRetries: taskTrouble.reduce((n, t) => n + t.unhandledCommand, 0),
      seconds,
      batch: BATCH,
      kinds: table,
    });
    expect(wrongOutcomes.slice(0, 5)).toEqual([]);
    expect(taskTrouble.reduce((n, t) => n + t.failed, 0)).toBe(0);
    for (const t of table) {
      if (t.kind === 'genuine') expect(t, t.kind).toMatchObject({ counted: t.sent, lost: 0, refusedOtherwise: 0 });
      else expect(t, t.kind).toMatchObject({ wronglyAccepted: 0, refusedAsExpected: t.sent, lost: 0 });
    }
    expect(new Set(illegitimate.map((t) => t.kind)).size).toBe(Object.keys(ATTACKS).length);
  });
});
