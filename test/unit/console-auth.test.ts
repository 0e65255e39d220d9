import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretAuthenticator } from '../../api/auth/authenticator';
import { FailureLimiter, SignInThrottle } from '../../api/auth/rateLimit';
import { hashSecret, verifySecret } from '../../api/auth/secrets';
import { SessionStore } from '../../api/auth/sessions';
import { consolePortFromEnv, startConsole } from '../../api/server';
import { compareClaims } from '../../common/claims';
import { loadPlaneConfig } from '../../config/load';
import { prepareDemo } from '../../examples/demo/setup';
import { scratchDir } from '../helpers/scratchDir';

describe('console sign-in secrets', () => {
  it('hashes with scrypt and verifies only the right secret', async () => {
    const hash = hashSecret('correct horse battery');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(hash).not.toContain('correct');
    expect(await verifySecret('correct horse battery', hash)).toBe(true);
    expect(await verifySecret('correct horse batterY', hash)).toBe(false);
    expect(hashSecret('correct horse battery')).not.toBe(hash); // salted
    expect(await verifySecret('x', 'scrypt$bogus')).toBe(false);
    expect(() => hashSecret('short')).toThrow(/at least 12/);
  }, 30_000);

  it('authenticates only humans with a configured hash', async () => {
    const auth = new SecretAuthenticator(() => ({ alice: { secretHash: hashSecret('alice-secret-123', 1024) } }));
    expect(await auth.authenticate({ human: 'alice', secret: 'alice-secret-123' })).toEqual({ human: 'alice', method: 'secret' });
    expect(await auth.authenticate({ human: 'alice', secret: 'wrong-secret-123' })).toBeNull();
    expect(await auth.authenticate({ human: 'bob', secret: 'alice-secret-123' })).toBeNull();
    expect(await auth.authenticate({ human: 'constructor', secret: 'alice-secret-123' })).toBeNull();
  });
});

describe('console sessions', () => {
  it('expire when idle and at the absolute limit; IDs and CSRF tokens are random', () => {
    let now = 0;
    const store = new SessionStore({ idleMs: 1000, maxAgeMs: 5000 }, () => now);
    const a = store.create({ human: 'alice', method: 'secret' });
    const b = store.create({ human: 'alice', method: 'secret' });
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^[\w-]{43}$/);
    expect(a.csrfToken).not.toBe(a.id);
    now = 900;
    expect(store.get(a.id)?.human).toBe('alice');
    now = 1800; // 900 ms since last seen: alive
    expect(store.get(a.id)).not.toBeNull();
    expect(store.get(b.id)).toBeNull(); // idle 1800 ms
    now = 2700;
    expect(store.get(a.id, { touch: false })).not.toBeNull();
    now = 3000; // not touched at 2700: idle 1200 ms
    expect(store.get(a.id)).toBeNull();
    const c = store.create({ human: 'bob', method: 'secret' });
    for (now = 3500; now <= 8500; now += 500) store.get(c.id);
    expect(store.get(c.id)).toBeNull(); // past maxAge though never idle
  });

  it('limits sign-in failures per key in a sliding window', () => {
    let now = 0;
    const limiter = new FailureLimiter(3, 10_000, () => now);
    for (let i = 0; i < 3; i++) limiter.fail(['human:erin']);
    expect(limiter.retryAfterMs(['human:erin'])).toBe(10_000);
    expect(limiter.retryAfterMs(['human:alice'])).toBe(0);
    now = 10_000;
    expect(limiter.retryAfterMs(['human:erin'])).toBe(0);
  });
});

describe('console configuration', () => {
  it('reads ECP_CONSOLE_PORT: default, off, numbers, and refuses garbage', () => {
    expect(consolePortFromEnv({})).toBe(8088);
    expect(consolePortFromEnv({}, null)).toBeNull();
    expect(consolePortFromEnv({ ECP_CONSOLE_PORT: 'off' })).toBeNull();
    expect(consolePortFromEnv({ ECP_CONSOLE_PORT: '0' })).toBeNull();
    expect(consolePortFromEnv({ ECP_CONSOLE_PORT: '9090' })).toBe(9090);
    expect(() => consolePortFromEnv({ ECP_CONSOLE_PORT: 'http' })).toThrow(/ECP_CONSOLE_PORT/);
  });

  it('refuses to start on a port that is taken, naming the setting', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(
        startConsole({
          port,
          address: '127.0.0.1:1',
          namespace: 'default',
          config: () => {
            throw new Error('not reached');
          },
        }),
      ).rejects.toThrow(new RegExp(`port ${port} \\(web console\\) is already in use.*ECP_CONSOLE_PORT`));
    } finally {
      taken.close();
    }
  });

  it('the demo writes only hashes into its configuration, and a console human must be in the directory', () => {
    const dataDir = scratchDir('ecp-console');
    const demo = prepareDemo(dataDir);
    const config = loadPlaneConfig(demo.configPath);
    expect(Object.keys(config.console!.humans).sort()).toEqual(demo.humans.sort());
    const text = JSON.stringify(config.console);
    for (const { secret } of Object.values(demo.consoleSecrets)) expect(text).not.toContain(secret);
    // Keeps the same secrets on the next start.
    expect(prepareDemo(dataDir).consoleSecrets).toEqual(demo.consoleSecrets);
    const bad = join(dataDir, 'demo', 'bad.yaml');
    writeFileSync(
      bad,
      `policies: ${join(process.cwd(), 'examples/demo/policies')}\nactionTypes: ${join(process.cwd(), 'examples/demo/action-types.yaml')}\ndirectory: ./directory.yaml\nconsole:\n  humans:\n    mallory: { secretHash: "${config.console!.humans.alice!.secretHash}" }\n`,
    );
    expect(() => loadPlaneConfig(bad)).toThrow(/console: "mallory" has a sign-in secret but is not a human in the directory/);
  }, 30_000);
});

describe('claims vs facts (shared by ecp show and the console)', () => {
  it('flags only claims the verified facts contradict', () => {
    expect(compareClaims({ total: 15000, customer: 'Ada', note: 'x' }, { total: 12000, customer: 'Ada', refunded: 0 })).toEqual([
      { key: 'customer', claimed: true, claim: 'Ada', verified: true, fact: 'Ada', mismatch: false },
      { key: 'note', claimed: true, claim: 'x', verified: false, fact: null, mismatch: false },
      { key: 'refunded', claimed: false, claim: null, verified: true, fact: 0, mismatch: false },
      { key: 'total', claimed: true, claim: 15000, verified: true, fact: 12000, mismatch: true },
    ]);
    expect(compareClaims({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } })[0]!.mismatch).toBe(false); // canonical comparison
    expect(compareClaims({ total: 1 }, null)).toEqual([
      { key: 'total', claimed: true, claim: 1, verified: false, fact: null, mismatch: false },
    ]);
  });
});

describe('sign-in throttle: per source and per human-and-source, never per human alone', () => {
  const settings = { sourceMax: 20, windowMs: 15 * 60_000, freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, maxTracked: 100 };

  it('never refuses a source that did not fail, however often others failed for the same human', () => {
    let now = 0;
    const throttle = new SignInThrottle(settings, () => now);
    for (let i = 0; i < 500; i++) {
      throttle.failed(`10.0.${i >> 8}.${i & 255}`, 'alice'); // many attacker sources
      throttle.failed('192.0.2.66', 'alice'); // and one that hammers
      now += 10;
    }
    expect(throttle.retryAfterMs('192.0.2.66', 'alice')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('198.51.100.7', 'alice')).toBe(0);
  });

  it('backs off exponentially per human-and-source after the free failures, capped, and a success resets it', () => {
    let now = 0;
    const throttle = new SignInThrottle(settings, () => now);
    const waits: number[] = [];
    for (let i = 0; i < 14; i++) {
      throttle.failed('a', 'erin');
      waits.push(throttle.retryAfterMs('a', 'erin'));
      now += waits.at(-1)!; // retry as soon as allowed
    }
    expect(waits.slice(0, 7)).toEqual([0, 0, 1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(Math.max(...waits)).toBe(15 * 60_000);
    expect(throttle.retryAfterMs('a', 'bob')).toBeGreaterThanOrEqual(0); // the source window is separate
    throttle.succeeded('a', 'erin');
    expect(throttle.retryAfterMs('b', 'erin')).toBe(0);
  });

  it('refuses a source after sourceMax failures for any humans until the window passes', () => {
    let now = 0;
    const throttle = new SignInThrottle(settings, () => now);
    for (let i = 0; i < 20; i++) throttle.failed('a', `human${i}`);
    expect(throttle.retryAfterMs('a', 'someone-else')).toBe(15 * 60_000);
    expect(throttle.retryAfterMs('b', 'someone-else')).toBe(0);
    now = 15 * 60_000;
    expect(throttle.retryAfterMs('a', 'someone-else')).toBe(0);
  });

  it('forgets quiet pairs and keeps at most maxTracked of them', () => {
    let now = 0;
    const throttle = new SignInThrottle({ ...settings, sourceMax: 10_000, maxTracked: 3 }, () => now);
    for (let i = 0; i < 5; i++) throttle.failed('a', 'erin');
    for (const h of ['x', 'y', 'z']) throttle.failed('a', h); // pushes the oldest pair (erin) out
    expect(throttle.retryAfterMs('a', 'erin')).toBe(0);
    for (let i = 0; i < 5; i++) throttle.failed('c', 'erin');
    now += 15 * 60_000;
    expect(throttle.retryAfterMs('c', 'erin')).toBe(0);
  });
});
