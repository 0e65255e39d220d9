/**
 * The demo target's notification webhook receiver (examples/demo/target.ts): it keeps only messages whose
 * X-Ecp-Signature verifies with the demo's secret, each event ID once, and fails closed without a secret.
 */
import { describe, expect, it } from 'vitest';
import { webhookSignature } from '../../client/webhookSignature';
import { createDemoTarget } from '../../examples/demo/target';

const TOKEN = 'demo-token';
const SECRET = 'demo-webhook-secret';
const message = (id: string) => ({
  id,
  event: 'frozen',
  at: '2026-11-29T07:00:00.000Z',
  text: 'FROZEN: agent refund-bot by bob',
  link: null,
  attempt: null,
  detail: 'refund loop, INC-4711',
  recipients: ['bob', 'carol'],
});

function post(target: ReturnType<typeof createDemoTarget>, body: string, headers: Record<string, string>) {
  return target.app.fetch(
    new Request('http://demo/notifications', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }),
  );
}

const signed = (body: string, secret = SECRET, at = Math.floor(Date.now() / 1000)) => ({
  'x-ecp-signature': webhookSignature(secret, body, at),
});

describe('demo target: notification receiver', () => {
  it('keeps a signed message once per event ID and lists it behind the bearer token', async () => {
    const target = createDemoTarget(TOKEN, { webhookSecret: SECRET });
    const body = JSON.stringify(message('controls:frozen:1'));
    const first = await post(target, body, { ...signed(body), 'x-ecp-event-id': 'controls:frozen:1' });
    expect(first.status).toBe(200);
    const again = await post(target, body, { ...signed(body), 'x-ecp-event-id': 'controls:frozen:1' });
    expect(await again.json()).toEqual({ duplicate: true });
    expect(target.receivedNotifications).toBe(1);

    const anonymous = await target.app.fetch(new Request('http://demo/notifications'));
    expect(anonymous.status).toBe(401);
    for (const wrong of [`${TOKEN}x`, TOKEN.slice(0, -1), 'x']) {
      const refused = await target.app.fetch(new Request('http://demo/notifications', { headers: { authorization: `Bearer ${wrong}` } }));
      expect(refused.status, wrong).toBe(401);
    }
    const listed = await target.app.fetch(new Request('http://demo/notifications', { headers: { authorization: `Bearer ${TOKEN}` } }));
    expect(await listed.text()).toBe('frozen to bob, carol: FROZEN: agent refund-bot by bob (refund loop, INC-4711)\n');
  });

  it('refuses a wrong, stale or missing signature, and everything without a secret (fail closed)', async () => {
    const target = createDemoTarget(TOKEN, { webhookSecret: SECRET });
    const body = JSON.stringify(message('controls:frozen:2'));
    for (const headers of [
      signed(body, 'another-secret'),
      signed(body, SECRET, Math.floor(Date.now() / 1000) - 3600),
      signed(`${body} `), // signed other bytes
      {},
    ]) {
      expect((await post(target, body, headers)).status).toBe(401);
    }
    const noSecret = createDemoTarget(TOKEN);
    expect((await post(noSecret, body, signed(body))).status).toBe(401);
    expect(target.receivedNotifications + noSecret.receivedNotifications).toBe(0);
    expect(target.refusedNotifications).toBe(4);
  });

  it('refuses a signed body that is not a notification message, naming the field', async () => {
    const target = createDemoTarget(TOKEN, { webhookSecret: SECRET });
    const body = JSON.stringify({ ...message('x'), recipients: 'bob' });
    const res = await post(target, body, signed(body));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('recipients');
    expect(target.receivedNotifications).toBe(0);
  });
});
