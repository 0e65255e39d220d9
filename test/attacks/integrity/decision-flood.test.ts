import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import { decideUpdate, decisionSignal, keyFingerprint, LIMITS, SERVER_LIMITS, type AttemptRecord, type SignedDecision } from '../../../common';
import { publicKeyHex } from '../../../client/keys';
import { missingServerLimits } from '../../../worker/serverLimits';
import { forgeDecision, refund, strangerKey, waitForStatus } from '../../helpers/attempts';
import { startTestPlane, type TestPlane } from '../../helpers/plane';
import { pool, writeReliability } from '../../faults/helpers/report';

// Temporal's default per-execution signal limit: a server ECP does not control accepts this many.
const TEMPORAL_SIGNAL_LIMIT = 10_000;
// Temporal's default for accepted updates per execution; refused ones must not count toward it.
const TEMPORAL_UPDATE_LIMIT = 2_000;
const figures: Record<string, unknown> = {};

async function historyFacts(plane: TestPlane, attemptId: string) {
  const history = await plane.ecp.client.workflow.getHandle(attemptId).fetchHistory();
  const events = history.events ?? [];
  return {
    events: events.length,
    historyBytes: events.reduce((n, e) => n + JSON.stringify(e).length, 0),
    signals: events.filter((e) => e.workflowExecutionSignaledEventAttributes).length,
    failedTasks: events.filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes).length,
    updatesAccepted: events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
  };
}

/** A pending refund that needs one finance approval. */
async function pendingRefund(plane: TestPlane, amount: number) {
  plane.target.orders.get('order-1001')!.refunded = 0;
  const { attemptId, proposalHash } = await plane.ecp.propose(refund(amount));
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  return { attemptId, proposalHash };
}

/** The flood: junk, decisions naming unregistered keys, unknown humans, and forgeries naming alice's real key. */
function floodItem(i: number, a: { attemptId: string; proposalHash: string }, forged: SignedDecision, aliceKey: string): unknown {
  switch (i % 4) {
    case 0:
      return { junk: 'x'.repeat(100), n: i };
    case 1:
      return forged;
    case 2:
      return forgeDecision(strangerKey(), { ...a, human: `mallory-${i}` });
    default:
      // Costs a signature check each: it names alice's registered key, but the signature is not hers.
      return { ...forged, key: aliceKey, signature: forged.signature.slice(0, 120) + i.toString(16).padStart(8, '0') };
  }
}

describe('on a server without ECP limits (Temporal defaults)', () => {
  let plane: TestPlane;
  beforeAll(async () => {
    plane = await startTestPlane({ serverLimits: false });
  }, 240_000);
  afterAll(async () => plane?.teardown());

  it('the worker says which limits are missing', async () => {
    const missing = await missingServerLimits(new Client({ connection: plane.env.connection }));
    expect(missing).toHaveLength(2);
    expect(missing.join('\n')).toMatch(/limit\.blobSize\.error=524288[\s\S]*history\.maximumSignalsPerExecution=64/);
  });

  it(`a flood at Temporal's per-execution signal limit (${TEMPORAL_SIGNAL_LIMIT} signals) does not jam the attempt`, async () => {
    const a = await pendingRefund(plane, 7_500);
    const handle = plane.ecp.client.workflow.getHandle(a.attemptId);
    const aliceKey = keyFingerprint(publicKeyHex(plane.key('alice')));
    const forged = forgeDecision(strangerKey(), { ...a, human: 'alice' });
    const flood = TEMPORAL_SIGNAL_LIMIT - 1; // the last slot is the genuine decision's
    const sentAt = Date.now();
    await pool(
      Array.from({ length: flood }, (_, i) => i),
      32,
      (i) => handle.signal(decisionSignal, floodItem(i, a, forged, aliceKey) as SignedDecision),
    );
    const floodedAt = Date.now();
    await handle.signal(decisionSignal, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    const record = (await handle.result()) as AttemptRecord;
    const closedAt = Date.now();
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, {
      signalFlood: { signalsSent: flood + 1, status: record.status, recordPresent: Boolean(record.digest), ...facts, sendSeconds: (floodedAt - sentAt) / 1000, genuineToTerminalSeconds: (closedAt - floodedAt) / 1000 },
    });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.via])).toEqual([['alice', 'signal']]);
    expect(record.decisions.refusedTotal).toBe(flood);
    expect(record.decisions.refused.length).toBeLessThanOrEqual(LIMITS.refusedDecisionsKept);
    const perHuman = new Map<string, number>();
    for (const r of record.decisions.refused) perHuman.set(r.human ?? '', (perHuman.get(r.human ?? '') ?? 0) + 1);
    expect(Math.max(...perHuman.values())).toBeLessThanOrEqual(LIMITS.refusedKeptPerHuman);
    expect(facts.failedTasks).toBe(0);
    expect(plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId)).toHaveLength(1);
  }, 600_000);

  it(`decide updates nobody stands behind never reach history, even past Temporal's ${TEMPORAL_UPDATE_LIMIT} accepted updates`, async () => {
    const a = await pendingRefund(plane, 7_400);
    const aliceKey = keyFingerprint(publicKeyHex(plane.key('alice')));
    const forged = forgeDecision(strangerKey(), { ...a, human: 'alice' });
    const before = await historyFacts(plane, a.attemptId);
    const count = TEMPORAL_UPDATE_LIMIT + 100;
    const started = Date.now();
    const answers = await pool(
      Array.from({ length: count }, (_, i) => i),
      10,
      (i) => plane.ecp.submitDecision(a.attemptId, floodItem(i, a, forged, aliceKey) as SignedDecision).catch((e: Error) => ({ accepted: false, code: `error: ${e.message}` })),
    );
    const codes = new Set(answers.map((r) => r.code));
    expect(answers.every((r) => !r.accepted)).toBe(true);
    expect([...codes].sort()).toEqual(['bad_signature', 'malformed', 'unknown_human', 'unknown_key']);
    const after = await historyFacts(plane, a.attemptId);
    expect(after.events).toBe(before.events);
    expect((await plane.ecp.getRecord(a.attemptId)).decisions.refusedTotal).toBe(0);
    const genuine = await plane.ecp.submitDecision(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    expect(genuine.accepted).toBe(true);
    const record = (await plane.ecp.client.workflow.getHandle(a.attemptId).result()) as AttemptRecord;
    expect(record.status).toBe('SUCCEEDED');
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, { updateFlood: { updates: count + 1, status: record.status, ...facts, seconds: (Date.now() - started) / 1000 } });
    expect(facts.failedTasks).toBe(0);
  }, 600_000);

  it('signals of ≈ 2 MB cannot destroy the record: the attempt closes before Temporal would terminate it', async () => {
    const a = await pendingRefund(plane, 7_300);
    const handle = plane.ecp.client.workflow.getHandle(a.attemptId);
    const big = 'x'.repeat(1_900_000);
    let sent = 0;
    const started = Date.now();
    for (; sent < 30; sent++) {
      try {
        await handle.signal(decisionSignal, { junk: big, n: sent } as never);
      } catch {
        break; // the attempt has closed
      }
    }
    const record = (await handle.result()) as AttemptRecord;
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, { bigSignalsNoLimits: { sent, status: record.status, note: record.timeline.at(-1)?.note, ...facts, seconds: (Date.now() - started) / 1000 } });
    expect(record.status).toBe('CANCELLED');
    expect(record.timeline.at(-1)?.note).toMatch(/history limit/);
    expect(record.digest).toMatch(/^sha256:/);
    expect(plane.target.effects.filter((e) => e.idempotencyKey === a.attemptId)).toHaveLength(0);
  }, 600_000);
});

describe('on a server with ECP limits (as the embedded plane, cluster and compose run)', () => {
  let plane: TestPlane;
  beforeAll(async () => {
    plane = await startTestPlane();
  }, 240_000);
  afterAll(async () => {
    writeReliability('integrity-flood', figures);
    await plane?.teardown();
  });

  it('the worker finds the limits in force', async () => {
    expect(await missingServerLimits(new Client({ connection: plane.env.connection }))).toEqual([]);
  });

  it(`refuses payloads over ${SERVER_LIMITS.blobBytes} bytes and signals past ${SERVER_LIMITS.signalsPerAttempt}; the attempt still takes a decision and keeps its record`, async () => {
    const a = await pendingRefund(plane, 7_200);
    const handle = plane.ecp.client.workflow.getHandle(a.attemptId);
    await expect(handle.signal(decisionSignal, { junk: 'x'.repeat(SERVER_LIMITS.blobBytes + 1024) } as never)).rejects.toThrow();
    // The largest signals the server takes, all at once.
    const near = 'x'.repeat(SERVER_LIMITS.blobBytes - 4096);
    const results = await pool(
      Array.from({ length: SERVER_LIMITS.signalsPerAttempt + 8 }, (_, i) => i),
      8,
      (i) => handle.signal(decisionSignal, { junk: near, n: i } as never).then(() => true, () => false),
    );
    expect(results.filter(Boolean)).toHaveLength(SERVER_LIMITS.signalsPerAttempt);
    // Signals are capped; the update still decides.
    const genuine = await plane.ecp.submitDecision(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    expect(genuine.accepted).toBe(true);
    const record = (await handle.result()) as AttemptRecord;
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, { bigSignalsWithLimits: { accepted: results.filter(Boolean).length, status: record.status, ...facts } });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.refusedTotal).toBe(SERVER_LIMITS.signalsPerAttempt);
    expect(facts.failedTasks).toBe(0);
  }, 600_000);

  it('a decide update with an unregistered key is refused without a trace; the same human signing properly still counts', async () => {
    const a = await pendingRefund(plane, 7_100);
    const before = await historyFacts(plane, a.attemptId);
    const refused = await plane.ecp.submitDecision(a.attemptId, forgeDecision(strangerKey(), { ...a, human: 'alice' }));
    expect(refused).toMatchObject({ accepted: false, code: 'unknown_key', status: 'AWAITING_DECISION' });
    expect((await historyFacts(plane, a.attemptId)).events).toBe(before.events);
    const update = await plane.ecp.client.workflow.getHandle(a.attemptId).executeUpdate(decideUpdate, { args: [forgeDecision(plane.key('alice'), { ...a, human: 'alice' })] });
    expect(update.accepted).toBe(true);
  });
});
