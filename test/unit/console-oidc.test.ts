import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanFromClaims, OidcSignIn, PENDING_TTL_MS, resolveClientSecret } from '../../api/auth/oidc';
import { startConsole } from '../../api/server';
import type { Directory } from '../../common/directory';
import { loadPlaneConfig, type PlaneConfig } from '../../config/load';
import { consoleOidcSchema, type ConsoleOidcConfig } from '../../config/schema';
import { prepareDemo } from '../../examples/demo/setup';
import { startTestIdp, type TestIdp } from '../helpers/idp';
import { scratchDir } from '../helpers/scratchDir';

const directory = { agents: {}, groups: {}, humans: { alice: { groups: ['finance'], publicKeys: [] } } } as unknown as Directory;
const settings = (over: Partial<ConsoleOidcConfig> = {}): ConsoleOidcConfig =>
  consoleOidcSchema.parse({
    issuer: 'http://localhost:1',
    clientId: 'ecp-console',
    clientSecret: '${env:ECP_OIDC_SECRET}',
    redirectUrl: 'http://localhost:8088/auth/oidc/callback',
    ...over,
  });

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('console.oidc configuration', () => {
  it('takes the client secret only by ${env:…} reference, and the callback only at /auth/oidc/callback', () => {
    expect(settings().claim).toBe('email');
    const inline = consoleOidcSchema.safeParse({ ...settings(), clientSecret: 's3cret-value' });
    expect(inline.success).toBe(false);
    expect(inline.error!.issues[0]).toMatchObject({
      path: ['clientSecret'],
      message: expect.stringMatching(/environment reference.*never the secret/),
    });
    const redirect = consoleOidcSchema.safeParse({ ...settings(), redirectUrl: 'http://localhost:8088/elsewhere' });
    expect(redirect.error!.issues[0]).toMatchObject({ path: ['redirectUrl'], message: expect.stringMatching(/\/auth\/oidc\/callback/) });
  });

  it('refuses at load a mapping onto a human who is not in the directory, and an inline secret naming the field', () => {
    const dataDir = scratchDir('ecp-oidc');
    prepareDemo(dataDir);
    const file = join(dataDir, 'demo', 'sso.yaml');
    const head = `policies: ${join(process.cwd(), 'examples/demo/policies')}\nactionTypes: ${join(process.cwd(), 'examples/demo/action-types.yaml')}\ndirectory: ./directory.yaml\n`;
    const oidc = (secret: string, humans: string) =>
      `console:\n  oidc:\n    issuer: https://id.example.com\n    clientId: ecp\n    clientSecret: "${secret}"\n    redirectUrl: https://ecp.example.com/auth/oidc/callback\n    humans: { ${humans} }\n`;
    writeFileSync(file, head + oidc('${env:ECP_OIDC_SECRET}', '"a@example.com": alice'));
    expect(loadPlaneConfig(file).console!.oidc!.humans).toEqual({ 'a@example.com': 'alice' });
    writeFileSync(file, head + oidc('${env:ECP_OIDC_SECRET}', '"m@example.com": mallory'));
    expect(() => loadPlaneConfig(file)).toThrow(
      /console\.oidc\.humans: "m@example\.com" maps to "mallory", who is not a human in the directory/,
    );
    writeFileSync(file, head + oidc('hunter2-inline', '"a@example.com": alice'));
    expect(() => loadPlaneConfig(file)).toThrow(/console\.oidc\.clientSecret.*environment reference/);
  }, 30_000);

  it('resolves the client secret from the environment, naming the field when it is missing', () => {
    expect(resolveClientSecret('${env:X_SECRET}', { X_SECRET: 'v' })).toBe('v');
    expect(() => resolveClientSecret('${env:X_SECRET}', {})).toThrow(
      /console\.oidc\.clientSecret: environment variable X_SECRET is not set/,
    );
  });
});

describe('which human a token names (fail closed)', () => {
  it('maps the claim through `humans`, and refuses values that map to nobody', () => {
    const s = settings({ humans: { 'alice@example.com': 'alice', 'gone@example.com': 'gone' } });
    expect(humanFromClaims({ email: 'alice@example.com', email_verified: true }, s, directory)).toBe('alice');
    expect(() => humanFromClaims({ email: 'bob@example.com', email_verified: true }, s, directory)).toThrow(
      /email "bob@example.com" is not a human in this plane's directory/,
    );
    // Mapped, but that human has since left the directory.
    expect(() => humanFromClaims({ email: 'gone@example.com', email_verified: true }, s, directory)).toThrow(/not a human/);
    // Inherited members are not mappings or humans.
    for (const value of ['__proto__', 'constructor', 'toString'])
      expect(() => humanFromClaims({ email: value, email_verified: true }, s, directory)).toThrow(/not a human/);
  });

  it('takes the claim value as the human ID without a mapping (own directory entries only)', () => {
    expect(humanFromClaims({ preferred_username: 'alice' }, settings({ claim: 'preferred_username' }), directory)).toBe('alice');
    expect(() => humanFromClaims({ preferred_username: 'constructor' }, settings({ claim: 'preferred_username' }), directory)).toThrow(
      /not a human/,
    );
    expect(() => humanFromClaims({ sub: 'x' }, settings({ claim: 'preferred_username' }), directory)).toThrow(
      /no "preferred_username" claim/,
    );
  });

  it('counts an email only when the identity provider verified it', () => {
    const byEmail = settings({ humans: { 'alice@example.com': 'alice' } });
    expect(() => humanFromClaims({ email: 'alice@example.com', email_verified: false }, byEmail, directory)).toThrow(/not verified/);
    expect(() => humanFromClaims({ email: 'alice@example.com' }, byEmail, directory)).toThrow(/not verified/);
  });
});

describe('issuer discovery', () => {
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp({ redirectUri: 'http://127.0.0.1:9/auth/oidc/callback', accounts: {} });
  });
  afterAll(async () => idp?.close());

  it('discovers a real issuer; each sign-in asks for code with PKCE S256, a fresh state and nonce', async () => {
    let now = 1_000_000;
    const oidc = settings({ issuer: idp.issuer, clientId: idp.clientId, redirectUrl: 'http://127.0.0.1:9/auth/oidc/callback' });
    const sso = await OidcSignIn.discover(oidc, { env: { ECP_OIDC_SECRET: idp.clientSecret }, now: () => now });
    const [a, b] = [await sso.start(), await sso.start()];
    expect(a.authorizationUrl.origin).toBe(idp.issuer);
    const q = a.authorizationUrl.searchParams;
    expect(Object.fromEntries(q)).toMatchObject({ response_type: 'code', code_challenge_method: 'S256', scope: 'openid email profile' });
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    for (const p of ['state', 'nonce', 'code_challenge']) expect(q.get(p)).not.toBe(b.authorizationUrl.searchParams.get(p));
    // The browser carries the pending sign-in sealed: it cannot read the verifier, state or nonce in it.
    for (const p of ['state', 'nonce']) expect(Buffer.from(a.pending, 'base64url').toString('latin1')).not.toContain(q.get(p));
    const answer = new URLSearchParams({ code: 'x', state: q.get('state')!, iss: idp.issuer });
    await expect(sso.finish(undefined, answer)).rejects.toThrow(/not started here/);
    // Altered by one character, or sealed by another console process: refused.
    const flipped = a.pending.slice(0, 30) + (a.pending[30] === 'A' ? 'B' : 'A') + a.pending.slice(31);
    await expect(sso.finish(flipped, answer)).rejects.toThrow(/not started here/);
    const other = await OidcSignIn.discover(oidc, { env: { ECP_OIDC_SECRET: idp.clientSecret } });
    await expect(other.finish(a.pending, answer)).rejects.toThrow(/not started here/);
    await expect(sso.finish(a.pending, new URLSearchParams({ error: 'access_denied' }))).rejects.toThrow(
      /identity provider refused: access_denied/,
    );
    // Past the time limit.
    now += PENDING_TTL_MS + 1;
    await expect(sso.finish(a.pending, answer)).rejects.toThrow(/longer than 10 minutes/);
    // Within it, the state is checked before the code is ever sent (the provider would take it once).
    now -= 2;
    await expect(sso.finish(b.pending, answer)).rejects.toThrow(/did not check out: .*state/);
  });

  it('an unreachable issuer is a clear configuration error, and the console does not start', async () => {
    const issuer = `http://127.0.0.1:${await closedPort()}`;
    const oidc = settings({ issuer });
    const env = { ECP_OIDC_SECRET: 'x' };
    await expect(OidcSignIn.discover(oidc, { env })).rejects.toMatchObject({
      code: 'config_invalid',
      field: 'console.oidc.issuer',
      message: expect.stringContaining(`console.oidc.issuer: discovery at ${issuer} failed`),
    });
    await expect(OidcSignIn.discover(settings({ issuer: 'http://id.example.com' }), { env })).rejects.toThrow(/must use https/);
    process.env.ECP_OIDC_SECRET = 'x';
    try {
      await expect(
        startConsole({
          port: 0,
          address: '127.0.0.1:1',
          namespace: 'default',
          config: () => ({ console: { humans: {}, sessionIdleTimeout: '30m', sessionMaxAge: '12h', oidc } }) as unknown as PlaneConfig,
        }),
      ).rejects.toThrow(/console\.oidc\.issuer: discovery at .* failed/);
    } finally {
      delete process.env.ECP_OIDC_SECRET;
    }
  });
});
