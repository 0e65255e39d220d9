import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposalHash, parseProposal } from '../../common';
import { refund, forgeDecision, waitForStatus } from '../helpers/attempts';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestPlane, type TestPlane } from '../helpers/plane';

let plane: TestPlane;
let web: TestConsole;
let clock = Date.now();

const BASE = 'http://localhost';

async function call(path: string, init: { method?: string; body?: unknown; cookie?: string; csrf?: string; origin?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.cookie) headers.cookie = init.cookie;
  if (init.csrf) headers['x-csrf-token'] = init.csrf;
  if (init.origin) headers.origin = init.origin;
  const res = await web.app.request(`${BASE}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function signIn(human: string) {
  const res = await call('/api/session', { method: 'POST', body: { human, secret: web.secrets[human] } });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!;
  return { cookie: cookie.split(';')[0]!, csrf: res.body.csrfToken as string, setCookie: cookie };
}

beforeAll(async () => {
  plane = await startTestPlane();
  web = await startTestConsole(plane, { now: () => clock });
});
afterAll(async () => {
  await web?.close();
  await plane?.teardown();
});

describe('console API', () => {
  it('serves a valid OpenAPI 3.1 document generated from the schemas', async () => {
    const { status, body: doc } = await call('/api/openapi.json');
    expect(status).toBe(200);
    expect(doc.openapi).toBe('3.1.0');
    const expected = [
      'get /api/events',
      'post /api/session',
      'get /api/session',
      'delete /api/session',
      'get /api/sign-in-methods',
      'get /api/inbox',
      'get /api/attempts',
      'get /api/attempts/{attemptId}',
      'post /api/attempts/{attemptId}/decisions',
      'get /api/freezes',
      'post /api/freezes',
    ];
    const operations = Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m} ${p}`),
    );
    expect(operations.sort()).toEqual(expected.sort());
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const [method, op] of Object.entries(ops)) expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
    // Every $ref resolves to a component.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
    expect(doc.components.schemas.Error.properties.error.required).toEqual(expect.arrayContaining(['code', 'message']));
    expect(doc.paths['/api/attempts'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['status', 'agent', 'actionType']),
    );
  });

  it('refuses everything but sign-in without a session, with the one error body', async () => {
    for (const path of ['/api/inbox', '/api/attempts', '/api/session', '/api/attempts/att-0123456789abcdef0123456789abcdef']) {
      const res = await call(path);
      expect(res.status, path).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    }
    const events = await call('/api/events');
    expect(events.status).toBe(401);
  });

  it('names the field on validation errors', async () => {
    let res = await call('/api/session', { method: 'POST', body: { human: '', secret: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'human' });
    res = await call('/api/session', { method: 'POST', body: { human: 'alice' } });
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'secret' });
    const { cookie } = await signIn('alice');
    res = await call('/api/attempts?status=NOPE', { cookie });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'status' });
    res = await call('/api/attempts?limit=0', { cookie });
    expect(res.body.error).toMatchObject({ field: 'limit' });
    res = await call('/api/attempts/not-an-attempt', { cookie });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'attemptId' });
  });

  it('signs in with an HttpOnly SameSite=Strict session cookie and a CSRF token', async () => {
    const { cookie, csrf, setCookie } = await signIn('alice');
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const me = await call('/api/session', { cookie });
    expect(me.body).toMatchObject({ human: 'alice', groups: ['finance'], csrfToken: csrf, method: 'secret' });
    expect(me.body.publicKeys).toHaveLength(1);
    // Sign-out needs the CSRF token, then the session is gone.
    expect((await call('/api/session', { method: 'DELETE', cookie })).status).toBe(403);
    expect((await call('/api/session', { method: 'DELETE', cookie, csrf })).status).toBe(204);
    expect((await call('/api/session', { cookie })).status).toBe(401);
  });

  it('refuses wrong secrets and unknown humans alike, then rate-limits', async () => {
    const wrong = await call('/api/session', { method: 'POST', body: { human: 'erin', secret: 'not-the-secret' } });
    expect(wrong.status).toBe(401);
    const unknown = await call('/api/session', { method: 'POST', body: { human: 'mallory', secret: 'whatever-secret' } });
    expect(unknown.body.error).toEqual(wrong.body.error);
    for (let i = 0; i < 4; i++) await call('/api/session', { method: 'POST', body: { human: 'erin', secret: `guess-${i}` } });
    const limited = await call('/api/session', { method: 'POST', body: { human: 'erin', secret: web.secrets.erin } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    clock += 16 * 60_000; // the window passes
    expect((await call('/api/session', { method: 'POST', body: { human: 'erin', secret: web.secrets.erin } })).status).toBe(200);
  });

  it('ends idle and too-old sessions', async () => {
    const { cookie } = await signIn('alice');
    clock += 31 * 60_000; // past the 30m idle timeout
    expect((await call('/api/inbox', { cookie })).status).toBe(401);
    const second = await signIn('alice');
    for (let i = 0; i < 25; i++) {
      clock += 29 * 60_000; // never idle, but past the 12h absolute limit at the end
      await call('/api/session', { cookie: second.cookie });
    }
    expect((await call('/api/session', { cookie: second.cookie })).status).toBe(401);
  });

  it('decides only for the signed-in human, with CSRF, on the hash the page showed; the workflow refuses the wrong human', async () => {
    clock = Date.now();
    const proposal = refund(7500);
    const { attemptId } = await plane.ecp.propose(proposal);
    const hash = proposalHash(parseProposal(proposal));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const alice = await signIn('alice');
    const bob = await signIn('bob');

    // Inbox: alice (finance) sees it, bob (sre) does not.
    const inbox = await call('/api/inbox', { cookie: alice.cookie });
    expect(inbox.body.attempts.map((a: { attemptId: string }) => a.attemptId)).toContain(attemptId);
    // Each inbox row and the attempt view carry the action type's one-line summary, rendered from the proposal.
    const summary = `Refund 75.00 EUR on ${(proposal.parameters as { orderId: string }).orderId}`;
    expect(inbox.body.attempts.find((a: { attemptId: string }) => a.attemptId === attemptId)).toMatchObject({ summary });
    expect((await call(`/api/attempts/${attemptId}`, { cookie: alice.cookie })).body.summary).toBe(summary);
    expect((await call('/api/inbox', { cookie: bob.cookie })).body.attempts.map((a: { attemptId: string }) => a.attemptId)).not.toContain(
      attemptId,
    );
    const view = await call(`/api/attempts/${attemptId}`, { cookie: bob.cookie });
    expect(view.body.viewer).toEqual({
      mayDecide: false,
      why: expect.stringMatching(/none of the required groups/),
      mayOverride: false,
      overridable: [],
      whyNoOverride: 'nothing on this attempt can be overridden',
      mayRatify: false,
      whyNoRatify: null, // no override awaits ratification
    });
    expect(view.body.claims).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'total', mismatch: false })]));

    const path = `/api/attempts/${attemptId}/decisions`;
    const signed = (human: string, extra: { proposalHash?: string; verdict?: 'approve' | 'reject'; reason?: string } = {}) =>
      forgeDecision(plane.key(human), {
        attemptId,
        proposalHash: extra.proposalHash ?? hash,
        human,
        verdict: extra.verdict,
        reason: extra.reason,
      });

    // CSRF: no token, then a foreign Origin.
    let res = await call(path, { method: 'POST', cookie: alice.cookie, body: signed('alice') });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('csrf');
    res = await call(path, {
      method: 'POST',
      cookie: alice.cookie,
      csrf: alice.csrf,
      origin: 'https://evil.example',
      body: signed('alice'),
    });
    expect(res.body.error.code).toBe('csrf');
    // Not authenticated at all.
    expect((await call(path, { method: 'POST', body: signed('alice') })).status).toBe(401);
    // A statement made as someone else than the session.
    res = await call(path, { method: 'POST', cookie: alice.cookie, csrf: alice.csrf, body: signed('bob') });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden', field: 'statement.human' });
    // Malformed signature → field named.
    res = await call(path, { method: 'POST', cookie: alice.cookie, csrf: alice.csrf, body: { ...signed('alice'), signature: 'zz' } });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('signature');
    // A stale page (another hash).
    res = await call(path, {
      method: 'POST',
      cookie: alice.cookie,
      csrf: alice.csrf,
      body: signed('alice', { proposalHash: `sha256:${'0'.repeat(64)}` }),
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'stale', field: 'statement.proposalHash' });
    // Reject without a reason.
    res = await call(path, { method: 'POST', cookie: alice.cookie, csrf: alice.csrf, body: signed('alice', { verdict: 'reject' }) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'statement.reason' });
    // Bob, properly signed in and signing with his own key, is outside the required group: the workflow refuses.
    res = await call(path, { method: 'POST', cookie: bob.cookie, csrf: bob.csrf, body: signed('bob') });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'refused', refusal: 'not_in_required_group' });
    const record = await plane.ecp.getRecord(attemptId);
    expect(record.decisions.refused.map((d) => [d.human, d.code])).toEqual([['bob', 'not_in_required_group']]);

    // Alice approves; it runs.
    res = await call(path, { method: 'POST', cookie: alice.cookie, csrf: alice.csrf, body: signed('alice') });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: true });
    // The log line tells the status after the approval took effect, not the AWAITING_DECISION it answered from.
    expect(web.logs).toContainEqual(
      expect.stringMatching(new RegExp(`^console: alice approved ${attemptId} \\(now (EXECUTING|SUCCEEDED)\\)$`)),
    );
    await waitForStatus(plane.ecp, attemptId, 'SUCCEEDED');
    const list = await call(`/api/attempts?status=SUCCEEDED&agent=refund-bot&actionType=payments.refund`, { cookie: bob.cookie });
    expect(list.body.attempts.map((a: { attemptId: string }) => a.attemptId)).toContain(attemptId);
  });

  it('answers unknown API routes and attempts with the error body', async () => {
    const { cookie } = await signIn('alice');
    const missing = await call('/api/attempts/att-0123456789abcdef0123456789abcdef', { cookie });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect((await call('/api/nope', { cookie })).body.error.code).toBe('not_found');
  });

  it('the kill switch routes need a session, and say so when the plane has no kill switch', async () => {
    expect((await call('/api/freezes')).status).toBe(401);
    const { cookie } = await signIn('alice');
    const none = await call('/api/freezes', { cookie });
    expect(none.status).toBe(404);
    expect(none.body.error.message).toContain('kill switch is not configured');
  });
});

/** A sign-in over a real socket from `localAddress` (127.0.0.1 and 127.0.0.2 are both loopback on Linux). */
function signInFrom(console: TestConsole, localAddress: string, human: string, secret: string): Promise<{ status: number; body: string }> {
  const url = new URL('/api/session', console.url);
  const body = JSON.stringify({ human, secret });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('console API: integrity under attack', () => {
  it('a human is never locked out from a source that did not fail, however many failures elsewhere', async () => {
    let served: TestConsole | undefined;
    try {
      served = await startTestConsole(plane, { serve: true });
      // An attacker at 127.0.0.2 fails many times as alice (more than any per-human limit would allow).
      const statuses = new Set<number>();
      for (let i = 0; i < 30; i++) statuses.add((await signInFrom(served, '127.0.0.2', 'alice', `guess-${i}`)).status);
      expect([...statuses].sort()).toEqual([401, 429]);
      // The attacker's own source is slowed down, even with the right secret...
      expect((await signInFrom(served, '127.0.0.2', 'alice', web.secrets.alice!)).status).toBe(429);
      // ...but alice, from her own address, signs in at once.
      const alice = await signInFrom(served, '127.0.0.1', 'alice', web.secrets.alice!);
      expect(alice.status, alice.body).toBe(200);
      expect(JSON.parse(alice.body)).toMatchObject({ human: 'alice' });
    } finally {
      await served?.close();
    }
  });

  it('refuses JSON bodies that JSON.parse would silently change, naming the field', async () => {
    const post = async (text: string) => {
      const res = await web.app.request(`${BASE}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string; field?: string; message: string } } };
    };
    let res = await post(`{"human":"mallory","human":"alice","secret":${JSON.stringify(web.secrets.alice)}}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'human', message: expect.stringMatching(/duplicate key/) });
    res = await post(`{"human":"alice","secret":"x","__proto__":{"admin":true}}`);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: '__proto__' });
    res = await post(`{"human":"alice","secret":"x","n":123456789012345678901}`);
    expect(res.body.error).toMatchObject({ code: 'invalid_input', field: 'n' });
  });

  it('flags parameter and claim values that may look like another value in the attempt view', async () => {
    clock = Date.now();
    const lookalike = '\u0440\u0430ypal'; // Cyrillic р and а, then Latin
    const { attemptId } = await plane.ecp.propose(refund(300, 'order-1001', { claims: { merchant: 'cafe\u0301', total: 12_000 } }));
    const { cookie } = await signIn('alice');
    let view = await call(`/api/attempts/${attemptId}`, { cookie });
    expect(view.status).toBe(200);
    expect(view.body.textWarnings).toEqual([
      { path: 'claims.merchant', kind: 'not_nfc', message: expect.stringMatching(/not NFC-normalised/) },
    ]);
    const other = await plane.ecp.propose({
      ...refund(300),
      parameters: { orderId: 'order-1001', amount: 300, reason: `refund via ${lookalike}` },
    });
    view = await call(`/api/attempts/${other.attemptId}`, { cookie });
    expect(view.body.textWarnings).toEqual([
      { path: 'parameters.reason', kind: 'mixed_scripts', message: expect.stringContaining('mixes Cyrillic and Latin') },
    ]);
  });
});
