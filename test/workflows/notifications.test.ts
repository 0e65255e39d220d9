/**
 * Notifications (issue 13, docs/kill-switch-and-notifications.md) on a real dev server, a real HTTP receiver for
 * webhooks and a real SMTP server in-process (`smtp-server`): every event kind delivered to the right recipients, the
 * webhook signature verifies, a receiver down then up gets each event once, an SMTP server that is down is recorded
 * as a failed delivery while the attempt is unaffected.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendControl, signFreeze } from '../../client/controls';
import { verifyWebhookSignature } from '../../client/webhookSignature';
import {
  NOTIFICATION_ID_PREFIX,
  WEBHOOK_EVENT_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  type DeliveryResult,
  type NotificationEventKind,
  type NotificationMessage,
} from '../../common';
import { refund, uniqueKey, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { freePort } from '../helpers/temporalServers';

const SECRET = 'test-webhook-secret-0123456789';
process.env.ECP_TEST_WEBHOOK_SECRET = SECRET;

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP receiver; `listen()` can be deferred to simulate one that is down. */
function receiver(port: number) {
  const requests: Received[] = [];
  let server: Server | null = null;
  return {
    requests,
    listen: () =>
      new Promise<void>((resolve) => {
        server = createServer((req, res) => {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString('utf8')));
          req.on('end', () => {
            requests.push({ path: req.url ?? '', headers: req.headers, body });
            res.writeHead(204).end();
          });
        });
        server.listen(port, '127.0.0.1', () => resolve());
      }),
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

const mails: Array<{ to: string[]; raw: string }> = [];
let smtp: SMTPServer;
let hook: ReturnType<typeof receiver>;
let flaky: ReturnType<typeof receiver>;
let flakyUpAt = 0;
let plane: TestPlane;

const POLICIES = `
@id("notify.escalating")
@requires_approval("finance")
@deadline("60s")
@escalate_after("3s")
@escalate_to("sre")
@remind_before("56s")
permit (principal, action == Action::"payments.refund", resource)
when { principal.scopes.contains("payments:refund") && context.parameters.reason == "escalate" };

@id("notify.expiring")
@requires_approval("finance")
@deadline("3s")
permit (principal, action == Action::"payments.refund", resource)
when { principal.scopes.contains("payments:refund") && context.parameters.reason == "expire" };

@id("notify.outage-forbid")
@override_by("sre")
forbid (principal, action == Action::"payments.refund", resource)
when { context.parameters.reason == "outage" };

@id("notify.boom") permit (principal, action == Action::"ops.boom", resource);
`;

beforeAll(async () => {
  const [hookPort, flakyPort, smtpPort, deadSmtpPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  hook = receiver(hookPort);
  await hook.listen();
  flaky = receiver(flakyPort); // down until the test brings it up
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
  const webhook = (port: number, path: string, format = 'json') => ({
    url: `http://127.0.0.1:${port}${path}`,
    secret: '${env:ECP_TEST_WEBHOOK_SECRET}',
    format,
  });
  plane = await startTestPlane({
    config: {
      controls: { freezeGroup: 'sre' },
      notifications: {
        consoleUrl: 'http://console.test/',
        pollInterval: '1s',
        maxAttempts: 4,
        emails: { alice: 'alice@example.test', bob: 'bob@example.test', carol: 'carol@example.test' },
        channels: {
          hook: { webhook: webhook(hookPort, '/all') },
          slack: { webhook: webhook(hookPort, '/slack', 'slack'), events: ['frozen', 'unfrozen'], groups: ['sre'] },
          'finance-mail': { email: { smtp: { host: '127.0.0.1', port: smtpPort }, from: 'ecp@example.test' }, groups: ['finance'] },
          'owner-mail': {
            email: { smtp: { host: '127.0.0.1', port: deadSmtpPort }, from: 'ecp@example.test' },
            humans: ['carol'],
            events: ['executed'],
          },
          'flaky-hook': { webhook: webhook(flakyPort, '/flaky'), events: ['frozen'] },
        },
      },
    },
    actionTypes: {
      'ops.boom': {
        parameters: { type: 'object' },
        executor: { custom: 'boom' },
        retry: { maximumAttempts: 1 },
      },
    },
    schemaExtra: `action "ops.boom" appliesTo { principal: [Agent], resource: [Resource], context: { parameters: {}, claims: {}, facts: {} } };\n`,
    policies: { 'notify.cedar': POLICIES },
    extensions: {
      executors: {
        boom: async () => {
          throw ApplicationFailure.nonRetryable('the target refused: disk full', 'TargetRefused');
        },
      },
    },
  });
}, 180_000);
afterAll(async () => {
  await plane?.teardown();
  await hook?.close();
  await flaky?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

const governed = (reason: string) => {
  const input = refund(100);
  return { ...input, parameters: { ...input.parameters, reason } };
};

/** Webhook messages of the `/all` channel, parsed, after checking every signature. */
function hookMessages(): NotificationMessage[] {
  return hook.requests
    .filter((r) => r.path === '/all')
    .map((r) => {
      expect(verifyWebhookSignature(SECRET, r.body, r.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] as string)).toBe(true);
      const message = JSON.parse(r.body) as NotificationMessage;
      expect(r.headers[WEBHOOK_EVENT_ID_HEADER.toLowerCase()]).toBe(message.id);
      return message;
    });
}

async function until<T>(what: string, get: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const eventOf = (attemptId: string, event: NotificationEventKind) => () =>
  hookMessages().find((m) => m.attempt?.attemptId === attemptId && m.event === event);

async function deliveryOf(id: string): Promise<DeliveryResult[]> {
  return (await plane.ecp.client.workflow.getHandle(`${NOTIFICATION_ID_PREFIX}${id}`).result()) as DeliveryResult[];
}

describe('notifications', () => {
  it('awaiting decision, reminder, escalated, decided and executed reach the humans each concerns, with a deep link and no parameters', async () => {
    const { attemptId } = await plane.ecp.propose(governed('escalate'));
    const awaiting = await until('awaiting_decision', eventOf(attemptId, 'awaiting_decision'));
    // Only finance may decide at first; carol owns refund-bot and is never asked.
    expect(awaiting.recipients).toEqual(['alice']);
    expect(awaiting.link).toBe(`http://console.test/attempts/${attemptId}`);
    expect(awaiting.attempt).not.toHaveProperty('parameters');
    expect(JSON.stringify(awaiting)).not.toContain('escalate"');
    const reminder = await until('reminder', eventOf(attemptId, 'reminder'));
    expect(reminder.recipients).toContain('alice');
    const escalated = await until('escalated', eventOf(attemptId, 'escalated'));
    expect(escalated.recipients).toEqual(expect.arrayContaining(['alice', 'bob', 'dave', 'erin']));
    expect(escalated.recipients).not.toContain('carol');

    // The finance e-mail channel wrote to alice only, with the deep link.
    const mail = await until('awaiting mail', () => mails.find((m) => m.raw.includes(`${attemptId}:awaiting_decision`)));
    expect(mail.to).toEqual(['alice@example.test']);
    expect(mail.raw.replace(/=\r?\n/g, '')).toContain(`http://console.test/attempts/${attemptId}`);

    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', reason: 'on call', privateKey: plane.key('bob') });
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('SUCCEEDED');
    const decided = await until('decided', eventOf(attemptId, 'decided'));
    expect(decided.recipients).toEqual(['bob', 'carol']);
    expect(decided.text).toMatch(/approved by bob/);
    const executed = await until('executed', eventOf(attemptId, 'executed'));
    expect(executed.recipients).toEqual(['bob', 'carol']);
    // Routing: the finance channel takes no event whose recipients include no finance member; carol's channel only `executed`.
    const channels = async (id: string) => (await deliveryOf(id)).map((d) => d.channel).sort();
    expect(await channels(decided.id)).toEqual(['hook']);
    expect(await channels(awaiting.id)).toEqual(['finance-mail', 'hook']);
    expect(await channels(executed.id)).toEqual(['hook', 'owner-mail']);

    // carol's channel has a dead SMTP server: the delivery is recorded as failed after its tries; the attempt is unaffected.
    const [ownerMail] = await deliveryOf(executed.id).then((r) => r.filter((d) => d.channel === 'owner-mail'));
    expect(ownerMail).toMatchObject({ channel: 'owner-mail', status: 'failed', tries: 4 });
    expect(ownerMail!.error).toMatch(/ECONNREFUSED|connect/i);
    expect((await plane.ecp.getRecord(attemptId)).status).toBe('SUCCEEDED');
  }, 120_000);

  it('overridden, expired and failed are notified', async () => {
    const outage = await plane.ecp.propose(governed('outage'));
    await waitForStatus(plane.ecp, outage.attemptId, 'AWAITING_DECISION');
    await plane.ecp.decide(outage.attemptId, {
      human: 'bob',
      verdict: 'override',
      reason: 'incident 4711: customer locked out',
      privateKey: plane.key('bob'),
    });
    const expiring = await plane.ecp.propose(governed('expire'));
    const boom = await plane.ecp.propose({
      agent: 'deploy-bot',
      actionType: 'ops.boom',
      resource: 'disk-1',
      parameters: {},
      justification: 'cleanup',
      idempotencyKey: uniqueKey('boom'),
    });
    const overridden = await until('overridden', eventOf(outage.attemptId, 'overridden'));
    expect(overridden.recipients).toEqual(['bob', 'carol']);
    expect(overridden.detail).toMatch(/incident 4711/);
    expect((await plane.ecp.awaitOutcome(expiring.attemptId)).status).toBe('EXPIRED');
    expect((await until('expired', eventOf(expiring.attemptId, 'expired'))).recipients).toEqual(['carol']);
    expect((await plane.ecp.awaitOutcome(boom.attemptId)).status).toBe('FAILED');
    const failed = await until('failed', eventOf(boom.attemptId, 'failed'));
    expect(failed.recipients).toEqual(['dave']);
    expect(failed.detail).toMatch(/disk full/);
  }, 120_000);

  it('frozen and unfrozen reach the freeze group (Slack-compatible body too); a receiver down then up gets the event once', async () => {
    const t0 = Date.now();
    const entry = await sendControl(
      plane.ecp.client,
      signFreeze({ op: 'freeze', scope: { kind: 'agent', agent: 'deploy-bot' }, reason: 'INC-9', human: 'bob' }, plane.key('bob')),
    );
    await sendControl(
      plane.ecp.client,
      signFreeze({ op: 'unfreeze', scope: { kind: 'agent', agent: 'deploy-bot' }, reason: 'ok', human: 'erin' }, plane.key('erin')),
    );
    const frozen = await until('frozen', () => hookMessages().find((m) => m.id === `controls:frozen:${entry.seq}`));
    expect(frozen.recipients).toEqual(['bob', 'dave', 'erin']); // sre, and dave owns deploy-bot
    expect(frozen.link).toBeNull();
    await until('unfrozen', () => hookMessages().find((m) => m.id === `controls:unfrozen:${entry.seq + 1}`));
    const slack = await until(
      'slack',
      () => hook.requests.filter((r) => r.path === '/slack').length >= 2 && hook.requests.filter((r) => r.path === '/slack'),
    );
    for (const r of slack) {
      const body = JSON.parse(r.body) as { text: string; blocks: Array<{ type: string }> };
      expect(body.text).toMatch(/^(FROZEN|unfrozen): agent deploy-bot by (bob|erin)$/);
      expect(body.blocks[0]!.type).toBe('section');
    }

    // The flaky receiver was down: Temporal retries; once it is up the event arrives exactly once.
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 2_500 - Date.now())));
    expect(flaky.requests).toHaveLength(0);
    await flaky.listen();
    flakyUpAt = Date.now();
    const [delivered] = await deliveryOf(`controls:frozen:${entry.seq}`).then((r) => r.filter((d) => d.channel === 'flaky-hook'));
    expect(delivered).toMatchObject({ status: 'delivered' });
    expect(delivered!.tries).toBeGreaterThan(1);
    await new Promise((r) => setTimeout(r, 3_000)); // further passes of the notifier must not deliver it again
    expect(flaky.requests).toHaveLength(1);
    expect(flakyUpAt).toBeGreaterThan(0);
    // Every event went to the catch-all webhook exactly once, however often the notifier re-scanned.
    const ids = hookMessages().map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  }, 120_000);
});
