/**
 * Payload encryption on a real dev server: parameters, facts, records and decisions are ciphertext in Temporal's
 * history; the client, the `ecp` CLI and the codec server decrypt with the key; a missing or wrong key is a clear
 * error; rotating the active key mid-attempt works; histories written before encryption still decode.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { dataConverterFor, decodePayloads } from '../../codec/dataConverter';
import { AesGcmPayloadCodec } from '../../codec/aesGcm';
import { codecRoutesFromConfig } from '../../codec/planeCodecServer';
import { serveCodecServer } from '../../codec/server';
import type { AttemptRecord } from '../../common';
import { exportEvidencePack } from '../../audit/pack/export';
import { planeTrustRoot } from '../../audit/pack/trust';
import { verifyPack } from '../../audit/pack/verify';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tag = randomBytes(6).toString('hex');
const SECRETS = {
  orderId: `order-secret-${tag}`,
  reason: `reason-secret-${tag}`,
  customer: `Customer-Secret-${tag}`,
  justification: `justification-secret-${tag}`,
};
const K1 = randomBytes(32).toString('base64');
const K2 = randomBytes(32).toString('base64');
const CODEC_TOKEN = `codec-${tag}`;

let plane: TestPlane;
let baseConfig: Record<string, unknown>;

/** Rewrites the plane's ecp.yaml with this payloadEncryption section, reloads, and restarts the worker with it. */
async function setEncryption(section: Record<string, unknown> | null): Promise<EcpClient> {
  writeFileSync(plane.configPath, stringify(section ? { ...baseConfig, payloadEncryption: section } : baseConfig));
  const config = plane.runtime.reload();
  await plane.stopWorker();
  await plane.startWorker(); // createPlaneWorker builds the data converter from the reloaded configuration
  return clientWith(dataConverterFor({ config }));
}

const clientWith = (dataConverter: ReturnType<typeof dataConverterFor>) =>
  new EcpClient(
    new Client({ connection: plane.env.connection, namespace: 'default', dataConverter }),
    plane.runtime.config,
    plane.ecp.listingSeal,
  );

const secretProposal = () => ({
  ...refund(7_531, SECRETS.orderId),
  parameters: { orderId: SECRETS.orderId, amount: 7_531, reason: SECRETS.reason },
  justification: SECRETS.justification,
});

/** The attempt's whole history exactly as Temporal stores it, serialized to bytes. */
async function rawHistory(attemptId: string) {
  const { history } = await plane.env.client.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: attemptId },
  });
  const describe = await plane.env.client.workflowService.describeWorkflowExecution({
    namespace: 'default',
    execution: { workflowId: attemptId },
  });
  const bytes = Buffer.concat([
    Buffer.from(proto.temporal.api.history.v1.History.encode(history!).finish()),
    Buffer.from(proto.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.encode(describe).finish()),
  ]).toString('latin1');
  return { history: history!, bytes };
}

/** Calls `visit` for every payload ({ metadata, data }) anywhere in a decoded proto object. */
function visitPayloads(
  node: unknown,
  visit: (p: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }, path: string) => void,
  path = '',
): void {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
  const o = node as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object' && (o.metadata as Record<string, unknown>).encoding instanceof Uint8Array) {
    visit(o as { metadata: Record<string, Uint8Array>; data?: Uint8Array }, path);
    return;
  }
  for (const [key, value] of Object.entries(o)) visitPayloads(value, visit, `${path}.${key}`);
}

function run(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'ecp.mjs'), ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          ...process.env,
          NO_COLOR: '1',
          TEMPORAL_ADDRESS: plane.address,
          ECP_DATA_DIR: plane.dataDir,
          ECP_CONFIG: plane.configPath,
          ...env,
        },
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

beforeAll(async () => {
  process.env.ECP_TEST_PAYLOAD_K1 = K1;
  process.env.ECP_TEST_PAYLOAD_K2 = K2;
  plane = await startTestPlane();
  plane.target.orders.set(SECRETS.orderId, { total: 20_000, refunded: 0, currency: 'EUR', customer: SECRETS.customer });
  baseConfig = parse(readFileSync(plane.configPath, 'utf8')) as Record<string, unknown>;
});
afterAll(async () => {
  await plane?.teardown();
  delete process.env.ECP_TEST_PAYLOAD_K1;
  delete process.env.ECP_TEST_PAYLOAD_K2;
});

describe('payload encryption (real dev server)', () => {
  let plainId: string;
  let encryptedId: string;
  let k2Client: EcpClient;

  it('without encryption the history holds the plaintext (so the checks below can fail)', async () => {
    const plainClient = clientWith(dataConverterFor({ env: {} }));
    ({ attemptId: plainId } = await plainClient.propose(secretProposal()));
    await waitForStatus(plainClient, plainId, 'AWAITING_DECISION');
    const { bytes } = await rawHistory(plainId);
    for (const secret of [SECRETS.reason, SECRETS.customer, SECRETS.justification]) expect(bytes).toContain(secret);
  });

  it('with a key, parameters, facts, claims, records and memo are ciphertext in history', async () => {
    const k1Client = await setEncryption({ activeKey: 'k1', keys: { k1: '${env:ECP_TEST_PAYLOAD_K1}' } });
    ({ attemptId: encryptedId } = await k1Client.propose(secretProposal()));
    const record = await waitForStatus(k1Client, encryptedId, 'AWAITING_DECISION');
    expect(record.proposal.parameters).toMatchObject({ reason: SECRETS.reason });
    const { history, bytes } = await rawHistory(encryptedId);
    for (const secret of Object.values(SECRETS)) expect(bytes).not.toContain(secret);
    expect(bytes).not.toContain('7531');
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(new TextDecoder().decode(input.metadata!.encoding!)).toBe('binary/encrypted');
    expect(new TextDecoder().decode(input.metadata!['encryption-key-id']!)).toBe('k1');
    // Search attributes stay plaintext (listing and filtering work without the key).
    expect(bytes).toContain('refund-bot');
    expect((await k1Client.listPending()).map((a) => a.attemptId)).toContain(encryptedId);
  });

  it('rotation: decided under key k2 (k1 still configured), the attempt started under k1 completes; so does the plaintext one', async () => {
    k2Client = await setEncryption({ activeKey: 'k2', keys: { k1: '${env:ECP_TEST_PAYLOAD_K1}', k2: '${env:ECP_TEST_PAYLOAD_K2}' } });
    for (const id of [encryptedId, plainId]) {
      const result = await k2Client.decide(id, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
      expect(result.accepted, result.message).toBe(true);
      const final: AttemptRecord = await k2Client.awaitOutcome(id);
      expect(final.status).toBe('SUCCEEDED');
    }
    expect(plane.target.effects.filter((e) => JSON.stringify(e).includes(SECRETS.orderId))).toHaveLength(2);
    const { history, bytes } = await rawHistory(encryptedId);
    for (const secret of Object.values(SECRETS)) expect(bytes).not.toContain(secret);
    // Every payload in the history is encrypted; the start under k1, the decision and the result under k2.
    const encodings = new Set<string>();
    const paths = new Set<string>();
    const keyIds = new Set<string>();
    visitPayloads(history, (p, path) => {
      if (path.includes('.searchAttributes.')) return; // plaintext by design: listing and filtering need no key
      // Temporal's own local-activity marker bookkeeping (seq, activity type, time); the result detail is encrypted.
      if (path.endsWith('.markerRecordedEventAttributes.details.data.payloads.0')) return;
      // Temporal's patch marker: the patch id only (`ecp-local-evaluation`), written by the SDK's core, no user data.
      if (path.endsWith('.markerRecordedEventAttributes.details.patch-data.payloads.0')) return;
      // OpenTelemetry's trace context (trace and span IDs) in activity headers: no user data (docs/confidentiality.md).
      if (path.endsWith('.header.fields._tracer-data')) return;
      encodings.add(new TextDecoder().decode(p.metadata!.encoding!));
      if (new TextDecoder().decode(p.metadata!.encoding!) !== 'binary/encrypted') paths.add(path.replace(/\.\d+\./g, '.*.'));
      keyIds.add(new TextDecoder().decode(p.metadata!['encryption-key-id'] ?? new Uint8Array()));
    });
    expect([...encodings], [...paths].join('\n')).toEqual(['binary/encrypted']);
    expect(keyIds).toEqual(new Set(['k1', 'k2']));
    const result = history.events!.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
    expect(new TextDecoder().decode(result.metadata!['encryption-key-id']!)).toBe('k2');
  });

  it('a missing or wrong key is a clear error naming the key id', async () => {
    const noKeys = clientWith(dataConverterFor({ env: {} }));
    await expect(noKeys.getRecord(encryptedId)).rejects.toThrow(/encrypted with key id "k[12]", but no payload keys are configured/);
    const onlyK1 = clientWith(dataConverterFor({ env: { ECP_PAYLOAD_KEYS: `k1:${K1}` } }));
    await expect(onlyK1.getRecord(encryptedId)).rejects.toThrow(/key id "k2", which is not configured \(ECP_PAYLOAD_KEYS has "k1"\)/);
    const wrong = clientWith(dataConverterFor({ env: { ECP_PAYLOAD_KEYS: `k1:${K2},k2:${K1}`, ECP_PAYLOAD_ACTIVE_KEY: 'k2' } }));
    await expect(wrong.getRecord(encryptedId)).rejects.toThrow(/failed authentication with key id "k[12]"/);
    // The plaintext attempt's early events still decode for anyone; its later ones need the key.
    const { history } = await rawHistory(plainId);
    const [start] = await decodePayloads(
      [new AesGcmPayloadCodec(null)],
      [history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!],
    );
    expect(new TextDecoder().decode(start!.data!)).toContain(SECRETS.reason);
  });

  it('evidence packs keep payloads as encoded (no plaintext) and verify with the key; without it they do not', async () => {
    const pack = await exportEvidencePack(k2Client, encryptedId);
    const historyText = JSON.stringify(pack.parts.history);
    for (const secret of [SECRETS.reason, SECRETS.customer, SECRETS.justification]) expect(historyText).not.toContain(secret);
    // Against the plane's own trust root (its configuration; the verifier's workflow code is the plane's).
    const trust = planeTrustRoot(plane.runtime.config, plane.dataDir);
    const withKey = await verifyPack(pack, { dataConverter: dataConverterFor({ config: plane.runtime.config }), trust });
    expect(
      withKey.checks.filter((c) => !c.ok),
      JSON.stringify(withKey.checks.filter((c) => !c.ok)),
    ).toEqual([]);
    expect(withKey.ok).toBe(true);
    expect(withKey.verdict).toBe('PASS');
    const noConverter = await verifyPack(pack, { replay: false });
    expect(noConverter.ok).toBe(false);
    expect(
      noConverter.checks
        .filter((c) => !c.ok)
        .map((c) => c.detail)
        .join('\n'),
    ).toMatch(/binary\/encrypted/);
    const noKeys = await verifyPack(pack, { replay: false, dataConverter: dataConverterFor({ env: {} }) });
    expect(noKeys.ok).toBe(false);
    expect(
      noKeys.checks
        .filter((c) => !c.ok)
        .map((c) => c.detail)
        .join('\n'),
    ).toMatch(/encrypted with key id "k[12]", but no payload keys are configured/);
  });

  it('the ecp CLI decrypts with the configured keys and explains a missing one', async () => {
    const shown = await run(['show', encryptedId, '--json'], {});
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout).proposal.parameters.reason).toBe(SECRETS.reason);
    const missing = await run(['show', encryptedId, '--json'], { ECP_TEST_PAYLOAD_K1: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/payloadEncryption\.keys\.k1: environment variable ECP_TEST_PAYLOAD_K1 is not set/);
  });

  it('the worker refuses to start when a configured payload key cannot be loaded, naming the field', async () => {
    writeFileSync(
      plane.configPath,
      stringify({ ...baseConfig, payloadEncryption: { activeKey: 'k1', keys: { k1: { file: './missing.key' } } } }),
    );
    const started = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')],
        {
          cwd: ROOT,
          timeout: 60_000,
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: plane.address,
            ECP_CONFIG: plane.configPath,
            ECP_DATA_DIR: plane.dataDir,
            ECP_ARCHIVE: 'off',
          },
        },
        (err, _stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr: String(stderr) }),
      );
    });
    expect(started.code).toBe(1);
    expect(started.stderr).toMatch(/payloadEncryption\.keys\.k1: cannot read key file .*missing\.key/);
  });

  it('the codec server decodes raw history payloads for an authorised caller only', async () => {
    const codec = new AesGcmPayloadCodec(null);
    codec.setKeyring({
      activeKeyId: 'k2',
      keys: new Map([
        ['k1', Buffer.from(K1, 'base64')],
        ['k2', Buffer.from(K2, 'base64')],
      ]),
      source: 'test',
    });
    const routes = codecRoutesFromConfig({
      config: {
        payloadEncryption: {
          activeKey: 'k2',
          keys: {},
          codecServer: { host: '127.0.0.1', allowedOrigins: [], tokenSha256: [createHash('sha256').update(CODEC_TOKEN).digest('hex')] },
        },
      },
      codec,
      namespace: 'default',
    })!;
    const server = await serveCodecServer(routes.app, { port: 0, host: '127.0.0.1' });
    try {
      const { history } = await rawHistory(encryptedId);
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      const body = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
            data: Buffer.from(input.data!).toString('base64'),
          },
        ],
      });
      const call = (auth: string) =>
        fetch(`${server.url}/decode`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Authorization: auth },
          body,
        });
      expect((await call('Bearer not-the-token')).status).toBe(401);
      const res = await call(`Bearer ${CODEC_TOKEN}`);
      expect(res.status).toBe(200);
      const decoded = (await res.json()) as { payloads: { data: string }[] };
      expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(SECRETS.reason);
    } finally {
      await server.close();
    }
  });
});
