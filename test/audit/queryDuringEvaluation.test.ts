/**
 * A record must be exactly what replaying its history yields, even when a caller queries the attempt while it is
 * being evaluated. When a query is answered while the evaluation local activity completes, the SDK core delivers the
 * evaluation's result in the next workflow task, so the workflow clock right after it differs between the run and
 * its replay. The transitions that follow an evaluation are therefore timed by the evaluation's own recorded end
 * (AttemptState.timeAfter).
 *
 * The race is made certain here: the query is buffered before the attempt's first workflow task (no worker is
 * polling), so the server hands it out with that task, and its answer is held back until the evaluation has ended.
 * The same holds for an evaluation that fails (its policy gives no advice, or it fails outright): the DENIED that
 * follows is timed by the failure's recorded end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../audit/pack/export';
import { attemptIdFor, decisionSignal } from '../../common';
import { verifyPacks } from '../../audit/pack/verify';
import { FAILURE_CONVERTER_PATH, payloadCodecFor } from '../../codec/dataConverter';
import { deploy, refund, uniqueKey, waitForStatus } from '../helpers/attempts';
import { FAULTS, faultyActivities } from '../helpers/faultyActivities';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { failedChecks } from './helpers';

const HOLD_MS = 300;
// Attempts whose evaluation fails (test/helpers/faultyActivities.ts): records of one whose policy fails on every try
// (≈ 1.5 s) are held until it has ended.
const HOLD_FAILING_MS = 3_000;
const SEAL_FAILS = 'seal-unavailable';
/** Attempt IDs of the SEAL_FAILS attempts. */
const unsealable = new Set<string>();
let planeCodec: PayloadCodec | null = null;
/** Holds back the worker's encoding of attempt records (query answers, results); passes every payload unchanged. */
const holdRecords: PayloadCodec = {
  async encode(payloads: Payload[]) {
    const records = payloads.filter((p) => p.data && Buffer.from(p.data).includes('"timeline"'));
    if (records.some((p) => Buffer.from(p.data!).includes(FAULTS.policy))) await sleep(HOLD_FAILING_MS);
    else if (records.length > 0) await sleep(HOLD_MS);
    return payloads;
  },
  async decode(payloads: Payload[]) {
    return payloads;
  },
};
/** The plane's own encryption, known once the plane is configured (before any attempt runs). */
const planeEncryption: PayloadCodec = {
  encode: (payloads) => planeCodec!.encode(payloads),
  decode: (payloads) => planeCodec!.decode(payloads),
};

let plane: TestPlane;
const workerOptions: Partial<WorkerOptions> = {
  dataConverter: { payloadCodecs: [holdRecords, planeEncryption], failureConverterPath: FAILURE_CONVERTER_PATH },
};
beforeAll(async () => {
  plane = await startTestPlane({ workerOptions });
  planeCodec = payloadCodecFor({ config: plane.runtime.config });
});
afterAll(async () => {
  await plane?.teardown();
});

describe('a query answered while the evaluation ends', () => {
  it('leaves the record exactly what replaying its history yields', { timeout: 120_000 }, async () => {
    await plane.stopWorker();
    workerOptions.activities ??= faultyActivities(plane, unsealable); // read by the next startWorker
    // One that waits for approval (then is cancelled: its record keeps the AWAITING_DECISION time and the deadline),
    // one denied, one allowed automatically, and two whose evaluation fails.
    const proposals = [
      deploy('production'),
      refund(100_000),
      refund(100),
      refund(100, 'order-1001', { idempotencyKey: uniqueKey(FAULTS.policy) }),
      refund(100, 'order-1001', { idempotencyKey: uniqueKey(SEAL_FAILS) }),
    ];
    for (const p of proposals) if (p.idempotencyKey.startsWith(SEAL_FAILS)) unsealable.add(attemptIdFor(p.agent, p.idempotencyKey));
    const started = await Promise.all(proposals.map((p) => plane.ecp.propose(p)));
    const queried = started.map(({ attemptId }) => plane.ecp.getRecord(attemptId));
    await sleep(200); // the queries reach the server, which buffers them for the first workflow task
    await plane.startWorker();
    await Promise.all(queried);
    const ids = started.map((s) => s.attemptId);
    const waiting = await plane.ecp.getRecord(ids[0]!);
    expect(waiting.status).toBe('AWAITING_DECISION');
    await plane.ecp.client.workflow.getHandle(ids[0]!).cancel();
    const packs = [];
    for (const id of ids) {
      await plane.ecp.awaitOutcome(id);
      packs.push(await exportEvidencePack(plane.ecp, id));
    }
    expect(packs.map((p) => p.parts.record.status)).toEqual(['CANCELLED', 'DENIED', 'SUCCEEDED', 'DENIED', 'DENIED']);
    expect(packs.slice(3).map((p) => p.parts.record.timeline.at(-1)?.note)).toEqual([
      'evaluation failed: the policy engine is unavailable',
      'evaluation failed: the plane key is unavailable',
    ]);
    // The policy failed on every try (retried as a whole), so its context is pinned; the unsealable one gathered none.
    expect(packs.slice(3).map((p) => p.parts.record.context !== null)).toEqual([true, false]);
    const verified = await verifyPacks(packs);
    expect(verified.map((v, i) => `${ids[i]}: ${failedChecks(v).join(', ') || 'ok'}`)).toEqual(ids.map((id) => `${id}: ok`));
  });

  it('also when the re-check after an approval fails outright', { timeout: 120_000 }, async () => {
    const pack = await approvedWithQueryBeside(refund(8_000, 'order-1001', { idempotencyKey: uniqueKey(FAULTS.recheck) }));
    expect(pack.parts.record.status).toBe('DENIED');
    expect(pack.parts.record.timeline.at(-1)?.note).toBe('evaluation failed: the directory is unavailable');
    const [verified] = await verifyPacks([pack]);
    expect(failedChecks(verified!)).toEqual([]);
  });

  // Last: its refund changes order-1001's facts, which the attempts above rely on.
  it('also when the re-check after an approval passes and the action runs', { timeout: 120_000 }, async () => {
    const pack = await approvedWithQueryBeside(refund(8_000));
    expect(pack.parts.record.status).toBe('SUCCEEDED');
    const [verified] = await verifyPacks([pack]);
    expect(failedChecks(verified!), JSON.stringify(verified!.checks.filter((c) => !c.ok))).toEqual([]);
  });
});

/**
 * Proposes, waits until the attempt awaits a decision, then sends alice's approval (as the signal) and a query while no
 * worker polls, so both go out with the task that re-checks; returns the closed attempt's evidence pack.
 */
async function approvedWithQueryBeside(proposal: ReturnType<typeof refund>) {
  await plane.stopWorker();
  workerOptions.activities ??= faultyActivities(plane, unsealable);
  await plane.startWorker();
  const { attemptId } = await plane.ecp.propose(proposal);
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  const approval = await plane.ecp.prepareDecision(attemptId, { verdict: 'approve', human: 'alice', privateKey: plane.key('alice') });
  await plane.stopWorker();
  await plane.ecp.client.workflow.getHandle(attemptId).signal(decisionSignal, approval);
  const queried = plane.ecp.getRecord(attemptId);
  await sleep(200);
  await plane.startWorker();
  await queried;
  await plane.ecp.awaitOutcome(attemptId);
  return exportEvidencePack(plane.ecp, attemptId);
}
