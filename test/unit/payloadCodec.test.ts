import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../codec/aesGcm';
import { dataConverterFor, decodePayloads, resolvePayloadKeyring } from '../../codec/dataConverter';
import { payloadKeySourcesFromFile } from '../../config/payloadKeySources';
import { keyringFromEnv, payloadEncryptionSchema, type PayloadKeyring } from '../../codec/keys';
import { EcpError } from '../../common';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const ring = (active: string, keys: Record<string, Buffer>): PayloadKeyring => ({
  activeKeyId: active,
  keys: new Map(Object.entries(keys)),
  source: 'test',
});
const text = (b: Uint8Array | null | undefined) => new TextDecoder().decode(b ?? new Uint8Array());
const payload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const secretParams = { orderId: 'order-4711', amount: 987654, reason: 'very-secret-reason' };

describe('AesGcmPayloadCodec', () => {
  it('round-trips payloads; the encoded form carries Temporal’s metadata and no plaintext', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1 }));
    const [encoded] = await codec.encode([payload(secretParams)]);
    expect(text(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encoded!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    const raw = Buffer.from(encoded!.data!).toString('latin1');
    for (const needle of ['order-4711', '987654', 'very-secret-reason', 'json/plain']) expect(raw).not.toContain(needle);
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(secretParams);
  });

  it('uses a fresh IV per payload: equal values encrypt differently', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1 }));
    const [a, b] = await codec.encode([payload('same'), payload('same')]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!.subarray(0, 12)).equals(Buffer.from(b!.data!.subarray(0, 12)))).toBe(false);
  });

  it('rotation: encrypts with the active key, decrypts any configured key', async () => {
    const before = new AesGcmPayloadCodec(ring('k1', { k1 }));
    const [old] = await before.encode([payload('under k1')]);
    const after = new AesGcmPayloadCodec(ring('k2', { k1, k2 }));
    const [fresh] = await after.encode([payload('under k2')]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['under k1', 'under k2']);
    // setKeyring swaps keys in place (configuration reload)
    before.setKeyring(ring('k2', { k1, k2 }));
    expect(before.activeKeyId).toBe('k2');
  });

  it('names the key id when a payload’s key is not configured', async () => {
    const [encoded] = await new AesGcmPayloadCodec(ring('k1', { k1 })).encode([payload(1)]);
    const other = new AesGcmPayloadCodec(ring('k2', { k2 }));
    await expect(other.decode([encoded!])).rejects.toThrow(/key id "k1", which is not configured .*"k2"/);
    const none = new AesGcmPayloadCodec(null);
    await expect(none.decode([encoded!])).rejects.toThrow(/key id "k1", but no payload keys are configured: set ECP_PAYLOAD_KEYS/);
  });

  it('refuses tampered ciphertext, a swapped key id, a wrong key and truncation', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1, k2 }));
    const [encoded] = await codec.encode([payload(secretParams)]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20]! ^= 0x01;
    await expect(codec.decode([{ ...encoded!, data: flipped }])).rejects.toThrow(/failed authentication with key id "k1"/);
    // Relabelled as k2: the associated data binds the key id, so it fails instead of decrypting.
    const relabelled = { ...encoded!, metadata: { ...encoded!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/failed authentication with key id "k2"/);
    const wrongKey = new AesGcmPayloadCodec(ring('k1', { k1: k2 }));
    await expect(wrongKey.decode([encoded!])).rejects.toThrow(EcpError);
    await expect(codec.decode([{ ...encoded!, data: encoded!.data!.subarray(0, 20) }])).rejects.toThrow(/truncated/);
  });

  it('passes through payloads that are not encrypted (histories from before encryption)', async () => {
    const codec = new AesGcmPayloadCodec(ring('k1', { k1 }));
    const plain = payload({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
    const off = new AesGcmPayloadCodec(null);
    expect(await off.encode([plain])).toEqual([plain]);
    expect(off.activeKeyId).toBeNull();
  });

  it('refuses keys of the wrong length', () => {
    expect(() => new AesGcmPayloadCodec(ring('k1', { k1: randomBytes(16) }))).toThrow(/"k1" is 16 bytes; AES-256 needs 32/);
  });
});

describe('payload key configuration', () => {
  const b64 = (b: Buffer) => b.toString('base64');

  it('env form: ECP_PAYLOAD_KEYS + ECP_PAYLOAD_ACTIVE_KEY', () => {
    const r = keyringFromEnv({ ECP_PAYLOAD_KEYS: `k1:${b64(k1)}, k2:${b64(k2)}`, ECP_PAYLOAD_ACTIVE_KEY: 'k2' })!;
    expect(r.activeKeyId).toBe('k2');
    expect(r.keys.get('k1')!.equals(k1)).toBe(true);
    expect(keyringFromEnv({ ECP_PAYLOAD_KEYS: `only:${b64(k1)}` })!.activeKeyId).toBe('only');
    expect(keyringFromEnv({})).toBeNull();
  });

  it('env form: clear errors naming the variable, never echoing key material', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ ECP_PAYLOAD_KEYS: `k1:${b64(k1)},k2:${b64(k2)}` }, /ECP_PAYLOAD_ACTIVE_KEY must name the key/],
      [{ ECP_PAYLOAD_KEYS: `k1:${b64(k1)}`, ECP_PAYLOAD_ACTIVE_KEY: 'k9' }, /ECP_PAYLOAD_ACTIVE_KEY "k9" is not one of the keys/],
      [{ ECP_PAYLOAD_KEYS: `k1:${b64(randomBytes(16))}` }, /ECP_PAYLOAD_KEYS \(key "k1"\): the key is 16 bytes; AES-256 needs exactly 32/],
      [{ ECP_PAYLOAD_KEYS: 'k1:not base64!' }, /ECP_PAYLOAD_KEYS \(key "k1"\): the key is not base64/],
      [{ ECP_PAYLOAD_KEYS: b64(k1) }, /ECP_PAYLOAD_KEYS\[0\]: expected "keyId:base64Key"/],
      [{ ECP_PAYLOAD_KEYS: `k1:${b64(k1)},k1:${b64(k2)}` }, /key id "k1" is listed twice/],
      [{ ECP_PAYLOAD_ACTIVE_KEY: 'k1' }, /ECP_PAYLOAD_ACTIVE_KEY is set but ECP_PAYLOAD_KEYS is not/],
    ];
    for (const [env, message] of cases) {
      let err: unknown;
      try {
        keyringFromEnv(env);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(EcpError);
      expect((err as EcpError).message).toMatch(message);
      expect((err as EcpError).message).not.toContain(b64(k1));
    }
  });

  describe('ecp.yaml section', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecp-codec-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('resolves ${env:NAME} and key files (relative to ecp.yaml), and wins over the env form', () => {
      writeFileSync(join(dir, 'k2.key'), `${b64(k2)}\n`);
      const file = join(dir, 'ecp.yaml');
      writeFileSync(
        file,
        `directory: x\nactionTypes: y\npayloadEncryption:\n  activeKey: k2\n  keys:\n    k1: \${env:TEST_K1}\n    k2: { file: ./k2.key }\n`,
      );
      const env = { TEST_K1: b64(k1), ECP_PAYLOAD_KEYS: `zz:${b64(k1)}` };
      const r = resolvePayloadKeyring(payloadKeySourcesFromFile(file, env))!;
      expect(r.activeKeyId).toBe('k2');
      expect([...r.keys.keys()]).toEqual(['k1', 'k2']);
      expect(r.keys.get('k2')!.equals(k2)).toBe(true);
      expect(() => resolvePayloadKeyring(payloadKeySourcesFromFile(file, {}))).toThrow(
        /payloadEncryption\.keys\.k1: environment variable TEST_K1 is not set/,
      );
    });

    it('refuses literal keys, an unknown active key and a codec server without tokens, naming the field and line', () => {
      const literal = payloadEncryptionSchema.safeParse({ activeKey: 'k1', keys: { k1: b64(k1) } });
      expect(literal.success).toBe(false);
      expect(literal.error!.issues[0]!.message).toMatch(/literal keys are refused/);
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'directory: x\npayloadEncryption:\n  activeKey: k3\n  keys:\n    k1: ${env:A}\n');
      expect(() => payloadKeySourcesFromFile(file)).toThrow(
        /bad\.yaml:3: field "payloadEncryption\.activeKey" must name one of the configured keys/,
      );
      const noTokens = payloadEncryptionSchema.safeParse({ activeKey: 'k1', keys: { k1: '${env:A}' }, codecServer: { tokenSha256: [] } });
      expect(noTokens.error!.issues[0]!.message).toMatch(/never runs unauthenticated/);
    });
  });

  it('dataConverterFor builds one codec; decodePayloads undoes it', async () => {
    const converter = dataConverterFor({ env: { ECP_PAYLOAD_KEYS: `k1:${b64(k1)}` } });
    const codecs = converter.payloadCodecs!;
    const encoded = await codecs[0]!.encode([payload('x')]);
    expect(text(encoded[0]!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    const [decoded] = await decodePayloads(codecs, encoded);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('x');
  });
});
