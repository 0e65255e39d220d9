/**
 * Failure messages and stack traces are encrypted like parameters (the failure converter's `encodeCommonAttributes`):
 * with payload encryption on, an attempt whose executor fails with a marker in its message, and a denied one, leave
 * no plaintext parameter or error text anywhere in the raw history; the decrypting client, the timeline and the
 * evidence pack still show the message; the history still replays.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { dataConverterFor } from '../../codec/dataConverter';
import { exportEvidencePack } from '../../audit/pack/export';
import { planeTrustRoot } from '../../audit/pack/trust';
import { verifyPack } from '../../audit/pack/verify';
import { buildTimeline } from '../../audit/timeline';
import { loadedConverter } from '../../audit/payloads';
import { uniqueKey } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

const tag = randomBytes(6).toString('hex');
const PARAM = `ticket-secret-${tag}`;
const ERROR = `locked-by-secret-${tag}`;
const RETRY_ERROR = `timeout-secret-${tag}`;
const MARKERS = [PARAM, ERROR, RETRY_ERROR];

let plane: TestPlane;
let client: EcpClient;
let dataConverter: ReturnType<typeof dataConverterFor>;

beforeAll(async () => {
  process.env.ECP_TEST_FAILURE_KEY = randomBytes(32).toString('base64');
  const tries = new Map<string, number>();
  plane = await startTestPlane({
    actionTypes: {
      'tickets.close': {
        parameters: { type: 'object', required: ['ticket'], properties: { ticket: { type: 'string' } } },
        context: { custom: 'ticketFacts' },
        executor: { custom: 'closeTicket' },
        retry: { maximumAttempts: 2, initialInterval: '1s', maximumInterval: '1s' },
        timeout: '10s',
      },
    },
    policies: {
      'tickets.cedar': `@id("tickets.open-only") permit (principal, action == Action::"tickets.close", resource) when { context.facts.open };\n`,
    },
    extensions: {
      contextProviders: { ticketFacts: async ({ proposal }) => ({ open: proposal.resource !== 'T-closed' }) },
      executors: {
        // Error texts that quote the parameters, as real ones do: first a retryable failure, then a final one.
        closeTicket: async ({ attemptId, proposal }) => {
          const n = (tries.get(attemptId) ?? 0) + 1;
          tries.set(attemptId, n);
          const ticket = String(proposal.parameters.ticket);
          if (n === 1) throw new Error(`${RETRY_ERROR} while closing ${ticket}`);
          throw ApplicationFailure.nonRetryable(`ticket ${ticket} is ${ERROR}`, 'TicketLocked');
        },
      },
    },
    schemaExtra: `action "tickets.close" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: { ticket: String }, claims: {}, facts: { open: Bool } } };\n`,
  });
  const config = parse(readFileSync(plane.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    plane.configPath,
    stringify({ ...config, payloadEncryption: { activeKey: 'k1', keys: { k1: '${env:ECP_TEST_FAILURE_KEY}' } } }),
  );
  const reloaded = plane.runtime.reload();
  await plane.stopWorker();
  await plane.startWorker(); // the worker's data converter now carries the key
  dataConverter = dataConverterFor({ config: reloaded });
  client = new EcpClient(
    new Client({ connection: plane.env.connection, namespace: 'default', dataConverter }),
    reloaded,
    plane.ecp.listingSeal,
  );
}, 180_000);
afterAll(async () => {
  await plane?.teardown();
  delete process.env.ECP_TEST_FAILURE_KEY;
});

/** The history exactly as Temporal stores it (no codec): protobuf bytes, and its proto3 JSON. */
async function rawHistory(attemptId: string): Promise<{ bytes: string; json: string }> {
  const { history } = await plane.env.client.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: attemptId },
  });
  const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history!).finish()).toString('latin1');
  return { bytes, json: historyToJSON(history!) };
}

const propose = (resource: string) =>
  client.propose({
    agent: 'refund-bot',
    actionType: 'tickets.close',
    resource,
    parameters: { ticket: PARAM },
    justification: 'customer confirmed the fix',
    idempotencyKey: uniqueKey('ticket'),
  });

describe('failure messages are encrypted (real dev server)', () => {
  it('an executor failure: no plaintext parameter or error text in the raw history; the decrypted record, timeline and pack show it; it replays', async () => {
    const { attemptId } = await propose('T-1');
    const record = await client.awaitOutcome(attemptId);
    expect(record.status).toBe('FAILED');
    expect(record.outcome).toMatchObject({ ok: false, error: { type: 'TicketLocked', message: `ticket ${PARAM} is ${ERROR}` } });

    const raw = await rawHistory(attemptId);
    // The failure events are there (so the checks below look at real failures), with their text encoded away.
    expect(raw.json).toContain('activityTaskFailedEventAttributes');
    expect(raw.json).toContain('Encoded failure');
    for (const marker of MARKERS) {
      expect(raw.bytes, `raw history bytes contain ${marker}`).not.toContain(marker);
      expect(raw.json, `raw history JSON contains ${marker}`).not.toContain(marker);
    }

    const pack = await exportEvidencePack(client, attemptId);
    const timeline = await buildTimeline(pack.parts.history, loadedConverter(dataConverter), pack.parts.record);
    const details = timeline.steps.flatMap((s) => s.details).join('\n');
    expect(details).toContain(ERROR);
    // Without the key the timeline says the message is encrypted, never shows ciphertext as text.
    const blind = await buildTimeline(pack.parts.history, loadedConverter(undefined), null);
    expect(blind.steps.flatMap((s) => s.details).join('\n')).toContain('failure message encrypted');

    const verdict = await verifyPack(pack, { dataConverter, trust: planeTrustRoot(plane.runtime.config, plane.dataDir) });
    expect(verdict.checks.filter((c) => !c.ok && !c.advisory)).toEqual([]);
    expect(verdict.checks.find((c) => c.name.startsWith('replay'))?.ok).toBe(true);
    expect(verdict.verdict).toBe('PASS');
  });

  it('a denied attempt: no plaintext parameter in the raw history', async () => {
    const { attemptId } = await propose('T-closed');
    expect((await client.awaitOutcome(attemptId)).status).toBe('DENIED');
    const raw = await rawHistory(attemptId);
    for (const marker of MARKERS) {
      expect(raw.bytes).not.toContain(marker);
      expect(raw.json).not.toContain(marker);
    }
  });
});
