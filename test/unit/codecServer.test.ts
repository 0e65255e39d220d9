/** The codec server over real HTTP: Temporal's protocol, authorisation, namespace and CORS checks. */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../../codec/aesGcm';
import { codecRoutesFromConfig, startPlaneCodecServer } from '../../codec/planeCodecServer';
import { freePort } from '../helpers/temporalServers';
import { serveCodecServer, type RunningCodecServer } from '../../codec/server';

const TOKEN = 'codec-token-for-tests-0123456789';
const UI = 'http://localhost:8080';
const keys = new Map([['k1', randomBytes(32)]]);
const codec = new AesGcmPayloadCodec({ activeKeyId: 'k1', keys, source: 'test' });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const plainPayload = { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ amount: 7500, orderId: 'order-secret' })) };

let server: RunningCodecServer;
beforeAll(async () => {
  const routes = codecRoutesFromConfig({
    config: {
      payloadEncryption: {
        activeKey: 'k1',
        keys: { k1: '${env:UNUSED}' },
        codecServer: { host: '127.0.0.1', allowedOrigins: [UI], tokenSha256: ['${env:TEST_CODEC_HASH}'] },
      },
    },
    codec,
    namespace: 'default',
    env: { TEST_CODEC_HASH: createHash('sha256').update(TOKEN).digest('hex') },
  })!;
  server = await serveCodecServer(routes.app, { port: 0, host: '127.0.0.1' });
});
afterAll(() => server?.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Authorization: `Bearer ${TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('codec server', () => {
  it('encodes and decodes in Temporal’s JSON form; encoded payloads are binary/encrypted with the key id', async () => {
    const enc = await post('/encode', { payloads: [plainPayload] });
    expect(enc.status).toBe(200);
    const { payloads: encoded } = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('k1');
    expect(Buffer.from(encoded[0]!.data, 'base64').toString('latin1')).not.toContain('order-secret');
    const dec = await post('/decode', { payloads: encoded });
    expect(dec.status).toBe(200);
    expect(enc.headers.get('cache-control')).toBe('no-store');
    expect(((await dec.json()) as { payloads: unknown[] }).payloads).toEqual([plainPayload]);
  });

  it('refuses without a valid token, on a foreign namespace, and on malformed bodies', async () => {
    const encoded = ((await (await post('/encode', { payloads: [plainPayload] })).json()) as { payloads: unknown[] }).payloads;
    const noAuth = await post('/decode', { payloads: encoded }, { Authorization: '' });
    expect(noAuth.status).toBe(401);
    expect(noAuth.headers.get('www-authenticate')).toBe('Bearer');
    expect(JSON.stringify(await noAuth.json())).not.toContain('order-secret');
    expect((await post('/decode', { payloads: encoded }, { Authorization: 'Bearer wrong-token' })).status).toBe(401);
    const ns = await post('/decode', { payloads: encoded }, { 'X-Namespace': 'other' });
    expect(ns.status).toBe(403);
    expect((await post('/decode', { payloads: encoded }, { 'X-Namespace': '' })).status).toBe(403);
    const bad = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/field "payloads\.0\.data" must be base64/);
    expect((await post('/decode', '{oops')).status).toBe(400);
  });

  it('answers 422 naming the key id for a payload under an unknown key, and for tampering', async () => {
    const other = new AesGcmPayloadCodec({ activeKeyId: 'k7', keys: new Map([['k7', randomBytes(32)]]), source: 'test' });
    const [p] = await other.encode([
      { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('1') },
    ]);
    const json = {
      metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
      data: Buffer.from(p!.data!).toString('base64'),
    };
    const res = await post('/decode', { payloads: [json] });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toMatch(/key id "k7", which is not configured/);
  });

  it('CORS: preflight admits the configured Web UI origin with credentials, nobody else', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('login sets an HttpOnly SameSite=Strict cookie that authorises like the bearer token', async () => {
    const bad = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const res = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }) });
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/codec/);
    const viaCookie = await post('/encode', { payloads: [plainPayload] }, { Authorization: '', Cookie: cookie.split(';')[0]! });
    expect(viaCookie.status).toBe(200);
  });
});

describe('the plane’s codec server (startPlaneCodecServer)', () => {
  const section = (port?: number) => ({
    activeKey: 'k1',
    keys: { k1: '${env:UNUSED}' },
    codecServer: {
      host: '127.0.0.1',
      allowedOrigins: [],
      tokenSha256: [createHash('sha256').update(TOKEN).digest('hex')],
      ...(port ? { port } : {}),
    },
  });

  it('is off without configuration, and refuses ECP_CODEC_PORT without a codecServer section (no tokens)', async () => {
    expect(await startPlaneCodecServer({ config: {}, codec, namespace: 'default', env: {} })).toBeNull();
    await expect(startPlaneCodecServer({ config: {}, codec, namespace: 'default', env: { ECP_CODEC_PORT: '8089' } })).rejects.toThrow(
      /no payloadEncryption\.codecServer section/,
    );
    await expect(
      startPlaneCodecServer({ config: { payloadEncryption: section() }, codec, namespace: 'default', env: { ECP_CODEC_PORT: 'x' } }),
    ).rejects.toThrow(/ECP_CODEC_PORT "x" is not a port/);
    const badHash = { ...section(), codecServer: { ...section().codecServer, tokenSha256: ['${env:H}'] } };
    await expect(
      startPlaneCodecServer({
        config: { payloadEncryption: badHash },
        codec,
        namespace: 'default',
        env: { ECP_CODEC_PORT: '1', H: 'abc' },
      }),
    ).rejects.toThrow(/tokenSha256\[0\]: must be the hex SHA-256/);
  });

  it('serves on ECP_CODEC_PORT (overriding codecServer.port) for the plane’s namespace', async () => {
    const port = await freePort();
    const running = (await startPlaneCodecServer({
      config: { payloadEncryption: section(1) },
      codec,
      namespace: 'ecp-prod',
      env: { ECP_CODEC_PORT: String(port) },
    }))!;
    try {
      expect(running.url).toBe(`http://127.0.0.1:${port}/codec`);
      const call = (ns: string) =>
        fetch(`${running.url}/encode`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-Namespace': ns, Authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ payloads: [] }),
        });
      expect((await call('ecp-prod')).status).toBe(200);
      expect((await call('default')).status).toBe(403);
    } finally {
      await running.close();
    }
  });
});
