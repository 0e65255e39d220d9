import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalTargetFromEnv } from '../../config/temporalConnection';

const dir = mkdtempSync(join(tmpdir(), 'ecp-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n';
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('temporalTargetFromEnv', () => {
  it('defaults to a plaintext local dev server', () => {
    expect(temporalTargetFromEnv({})).toEqual({ address: 'localhost:7233', namespace: 'default' });
  });

  it('mTLS from files: client pair, CA and server name', () => {
    const t = temporalTargetFromEnv({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'ecp-prod',
      TEMPORAL_TLS_CERT: file('c.pem', CERT),
      TEMPORAL_TLS_KEY: file('k.pem', KEY),
      TEMPORAL_TLS_CA: file('ca.pem', CA),
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(t.address).toBe('temporal.internal:7233');
    expect(t.namespace).toBe('ecp-prod');
    expect(t.tls).toEqual({
      clientCertPair: { crt: Buffer.from(CERT), key: Buffer.from(KEY) },
      serverRootCACertificate: Buffer.from(CA),
      serverNameOverride: 'frontend.temporal.internal',
    });
  });

  it('mTLS from PEM text (_DATA), e.g. injected from a secret store, and the temporal CLI’s variable names', () => {
    const t = temporalTargetFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_DATA: CERT,
      TEMPORAL_TLS_CLIENT_KEY_DATA: KEY,
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA,
    });
    expect(t.tls).toEqual({ clientCertPair: { crt: Buffer.from(CERT), key: Buffer.from(KEY) }, serverRootCACertificate: Buffer.from(CA) });
    const cli = temporalTargetFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('c3.pem', CERT),
      TEMPORAL_TLS_CLIENT_KEY_PATH: file('k3.pem', KEY),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca3.pem', CA),
    });
    expect(cli.tls).toEqual(t.tls);
  });

  it('Temporal Cloud API key implies TLS with system roots; TEMPORAL_TLS=false opts out', () => {
    expect(temporalTargetFromEnv({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret' })).toMatchObject({
      apiKey: 'secret',
      tls: true,
    });
    const plain = temporalTargetFromEnv({ TEMPORAL_API_KEY: 'secret', TEMPORAL_TLS: 'false' });
    expect(plain.tls).toBeUndefined();
    expect(temporalTargetFromEnv({ TEMPORAL_TLS: 'true' }).tls).toEqual({});
  });

  it('refuses inconsistent settings, naming the variable', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ TEMPORAL_TLS_CERT: file('c2.pem', CERT) }, /client certificate and key must be set together/],
      [
        { TEMPORAL_TLS_CERT: '/nonexistent/c.pem', TEMPORAL_TLS_KEY: '/nonexistent/k.pem' },
        /TEMPORAL_TLS_CERT=\/nonexistent\/c.pem cannot be read/,
      ],
      [
        { TEMPORAL_TLS_CA: file('ca2.pem', CA), TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA },
        /set only one of TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_CA_CERT_DATA/,
      ],
      [{ TEMPORAL_TLS_CLIENT_CERT_DATA: 'not pem', TEMPORAL_TLS_CLIENT_KEY_DATA: KEY }, /TEMPORAL_TLS_CLIENT_CERT_DATA must hold PEM text/],
      [{ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, /not supported .* set TEMPORAL_TLS_SERVER_NAME/],
      [{ TEMPORAL_TLS: 'yes' }, /TEMPORAL_TLS must be true or false/],
      [{ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA }, /TEMPORAL_TLS=false contradicts/],
    ];
    for (const [env, message] of cases) expect(() => temporalTargetFromEnv(env), JSON.stringify(Object.keys(env))).toThrow(message);
  });
});
