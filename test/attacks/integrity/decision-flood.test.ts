import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CLIENT_CHANNEL_ARGS } from '../../../config/temporalConnection';
import { decideUpdate, decisionSignal, keyFingerprint, LIMITS, SERVER_LIMITS, parseRecord, type SignedDecision } from '../../../common';
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

/** The attempt's history through a connection like ECP's own (a flooded history has pages far over 4 MiB). */
async function historyFacts(plane: TestPlane, attemptId: string) {
  const connection = await Connection.connect({ address: plane.address, channelArgs: CLIENT_CHANNEL_ARGS });
  const history = await new Client({ connection }).workflow
    .getHandle(attemptId)
    .fetchHistory()
    .finally(() => connection.close());
  const events = history.events ?? [];
  return {
    events: events.length,
    signals: events.filter((e) => e.workflowExecutionSignaledEventAttributes).length,
    failedTasks: events.filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes).length,
    taskFailures: [
      ...new Set(
        events.flatMap((e) =>
          e.workflowTaskFailedEventAttributes
            ? [
                `failed ${e.workflowTaskFailedEventAttributes.cause}: ${e.workflowTaskFailedEventAttributes.failure?.message?.slice(0, 160)}`,
              ]
            : e.workflowTaskTimedOutEventAttributes
              ? [`timed out ${e.workflowTaskTimedOutEventAttributes.timeoutType}`]
              : [],
        ),
      ),
    ],
    updatesAccepted: events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length,
  };
}

/** The history's size as Temporal stores it (protobuf), page by page. */
async function rawHistoryBytes(plane: TestPlane, attemptId: string): Promise<number> {
  const connection = await Connection.connect({ address: plane.address, channelArgs: CLIENT_CHANNEL_ARGS });
  try {
    let bytes = 0;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId: attemptId },
        nextPageToken,
      });
      bytes += temporal.api.history.v1.History.encode(page.history ?? {}).finish().length;
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return bytes;
  } finally {
    await connection.close();
  }
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
    const flood = Number(process.env.ECP_FLOOD_SIGNALS ?? TEMPORAL_SIGNAL_LIMIT) - 1; // the last slot is the genuine decision's
    const sentAt = Date.now();
    await pool(
      Array.from({ length: flood }, (_, i) => i),
      32,
      (i) => handle.signal(decisionSignal, floodItem(i, a, forged, aliceKey) as SignedDecision),
    );
    const floodedAt = Date.now();
    await handle.signal(decisionSignal, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    const record = parseRecord(await handle.result());
    const closedAt = Date.now();
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, {
      signalFlood: {
        signalsSent: flood + 1,
        status: record.status,
        recordPresent: Boolean(record.digest),
        ...facts,
        sendSeconds: (floodedAt - sentAt) / 1000,
        genuineToTerminalSeconds: (closedAt - floodedAt) / 1000,
      },
    });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.via])).toEqual([['alice', 'signal']]);
    expect(record.decisions.refusedTotal).toBe(flood);
    expect(record.decisions.refused.length).toBeLessThanOrEqual(LIMITS.refusedDecisionsKept);
    const perHuman = new Map<string, number>();
    for (const r of record.decisions.refused) perHuman.set(r.human ?? '', (perHuman.get(r.human ?? '') ?? 0) + 1);
    expect(Math.max(...perHuman.values())).toBeLessThanOrEqual(LIMITS.refusedKeptPerHuman);
    // No task fails or times out on the workflow's account. On Temporal's defaults the server itself force-fails a
    // running task once 100 signals wait behind it (FORCE_CLOSE_COMMAND, its flow control); ECP's limits raise that.
    expect(facts.taskFailures.filter((f) => !f.startsWith('failed 17:'))).toEqual([]);
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
      (i) =>
        plane.ecp
          .submitDecision(a.attemptId, floodItem(i, a, forged, aliceKey) as SignedDecision)
          .catch((e: Error) => ({ accepted: false, code: `error: ${e.message}` })),
    );
    const codes = new Set(answers.map((r) => r.code));
    expect(answers.every((r) => !r.accepted)).toBe(true);
    expect([...codes].sort()).toEqual(['bad_signature', 'malformed', 'unknown_human', 'unknown_key']);
    const after = await historyFacts(plane, a.attemptId);
    expect(after.events).toBe(before.events);
    expect((await plane.ecp.getRecord(a.attemptId)).decisions.refusedTotal).toBe(0);
    const genuine = await plane.ecp.submitDecision(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    expect(genuine.accepted).toBe(true);
    const record = parseRecord(await plane.ecp.client.workflow.getHandle(a.attemptId).result());
    expect(record.status).toBe('SUCCEEDED');
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, {
      updateFlood: { updates: count + 1, status: record.status, ...facts, seconds: (Date.now() - started) / 1000 },
    });
    expect(facts.failedTasks).toBe(0);
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

  // The attack that destroyed records: a few dozen ≈ 2 MB signals pushed history past Temporal's 50 MB and Temporal
  // terminated the attempt. With ECP's limits the most any caller can add is 64 × 512 KiB.
  it(`refuses payloads over ${SERVER_LIMITS.blobBytes} bytes and signals past ${SERVER_LIMITS.signalsPerAttempt}; the attempt still takes a decision and keeps its record`, async () => {
    const a = await pendingRefund(plane, 7_200);
    const handle = plane.ecp.client.workflow.getHandle(a.attemptId);
    for (let i = 0; i < 3; i++)
      await expect(handle.signal(decisionSignal, { junk: 'x'.repeat(1_900_000), n: i } as never)).rejects.toThrow();
    await expect(handle.signal(decisionSignal, { junk: 'x'.repeat(SERVER_LIMITS.blobBytes + 1024) } as never)).rejects.toThrow();
    // The largest signals the server takes, all at once.
    const refusals = new Set<string>();
    const near = 'x'.repeat(SERVER_LIMITS.blobBytes - 4096);
    const results = await pool(
      Array.from({ length: SERVER_LIMITS.signalsPerAttempt + 8 }, (_, i) => i),
      8,
      (i) =>
        handle.signal(decisionSignal, { junk: near, n: i } as never).then(
          () => true,
          (e: Error) => (refusals.add(`${e.message}: ${(e.cause as Error | undefined)?.message}`), false),
        ),
    );
    Object.assign(figures, { nearLimitRefusals: [...refusals] });
    expect(results.filter(Boolean)).toHaveLength(SERVER_LIMITS.signalsPerAttempt);
    // Signals are capped; the update still decides.
    const genuine = await plane.ecp.submitDecision(a.attemptId, forgeDecision(plane.key('alice'), { ...a, human: 'alice' }));
    expect(genuine.accepted).toBe(true);
    const record = parseRecord(await handle.result());
    const facts = await historyFacts(plane, a.attemptId);
    Object.assign(figures, { bigSignalsWithLimits: { accepted: results.filter(Boolean).length, status: record.status, ...facts } });
    const wire = await rawHistoryBytes(plane, a.attemptId);
    expect(wire).toBeLessThan(40 * 1024 * 1024);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.refusedTotal).toBe(SERVER_LIMITS.signalsPerAttempt);
    expect(facts.taskFailures.filter((f) => !f.startsWith('failed 17:'))).toEqual([]);
  }, 600_000);

  it('a decide update with an unregistered key is refused without a trace; the same human signing properly still counts', async () => {
    const a = await pendingRefund(plane, 7_100);
    const before = await historyFacts(plane, a.attemptId);
    const refused = await plane.ecp.submitDecision(a.attemptId, forgeDecision(strangerKey(), { ...a, human: 'alice' }));
    expect(refused).toMatchObject({ accepted: false, code: 'unknown_key', status: 'AWAITING_DECISION' });
    expect((await historyFacts(plane, a.attemptId)).events).toBe(before.events);
    const update = await plane.ecp.client.workflow
      .getHandle(a.attemptId)
      .executeUpdate(decideUpdate, { args: [forgeDecision(plane.key('alice'), { ...a, human: 'alice' })] });
    expect(update.accepted).toBe(true);
  });
});
