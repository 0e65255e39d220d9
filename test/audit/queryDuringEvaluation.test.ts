/**
 * A record must be exactly what replaying its history yields, even when a caller queries the attempt while it is
 * being evaluated. When a query is answered while the evaluation local activity completes, the SDK core delivers the
 * evaluation's result in the next workflow task, so the workflow clock right after it differs between the run and
 * its replay. The transitions that follow an evaluation are therefore timed by the evaluation's own recorded end
 * (AttemptState.timeAfter).
 *
 * The race is made certain here: the query is buffered before the attempt's first workflow task (no worker is
 * polling), so the server hands it out with that task, and its answer is held back until the evaluation has ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../audit/pack/export';
import { verifyPacks } from '../../audit/pack/verify';
import { FAILURE_CONVERTER_PATH, payloadCodecFor } from '../../codec/dataConverter';
import { deploy, refund } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { failedChecks } from './helpers';

const HOLD_MS = 300;
let planeCodec: PayloadCodec | null = null;
/** Holds back the worker's encoding of attempt records (query answers, results); passes every payload unchanged. */
const holdRecords: PayloadCodec = {
  async encode(payloads: Payload[]) {
    if (payloads.some((p) => p.data && Buffer.from(p.data).includes('"timeline"'))) await sleep(HOLD_MS);
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
beforeAll(async () => {
  plane = await startTestPlane({
    workerOptions: { dataConverter: { payloadCodecs: [holdRecords, planeEncryption], failureConverterPath: FAILURE_CONVERTER_PATH } },
  });
  planeCodec = payloadCodecFor({ config: plane.runtime.config });
});
afterAll(async () => {
  await plane?.teardown();
});

describe('a query answered while the evaluation ends', () => {
  it('leaves the record exactly what replaying its history yields', { timeout: 120_000 }, async () => {
    await plane.stopWorker();
    // One that waits for approval (then is cancelled: its record keeps the AWAITING_DECISION time and the deadline),
    // one denied and one allowed automatically.
    const started = await Promise.all([deploy('production'), refund(100_000), refund(100)].map((p) => plane.ecp.propose(p)));
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
    expect(packs.map((p) => p.parts.record.status)).toEqual(['CANCELLED', 'DENIED', 'SUCCEEDED']);
    const verified = await verifyPacks(packs);
    expect(verified.map((v, i) => `${ids[i]}: ${failedChecks(v).join(', ') || 'ok'}`)).toEqual(ids.map((id) => `${id}: ok`));
  });
});
