import { createHash, timingSafeEqual } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { verifyWebhookSignature } from '../../client/webhookSignature';
import { z } from 'zod';
import { WEBHOOK_EVENT_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from '../../common/notification';

/** How many notifications the demo target keeps for `GET /notifications` (the newest). */
export const KEPT_NOTIFICATIONS = 50;

/** The parts of a notification message (common/notification.ts) the receiver keeps; the rest is ignored. */
const messageSchema = z.object({
  id: z.string(),
  event: z.string(),
  text: z.string(),
  detail: z.string().nullable(),
  link: z.string().nullable(),
  recipients: z.array(z.string()),
});

/** One notification the demo target's webhook receiver took, its signature verified. */
export type ReceivedNotification = z.output<typeof messageSchema> & { receivedAt: string };

/** Options of `createDemoTarget`. */
export interface DemoTargetOptions {
  /** HMAC key of the notification webhook; without it `POST /notifications` refuses everything (fail closed). */
  webhookSecret?: string;
  /** Called with each notification accepted (npm start prints it). */
  onNotification?: (n: ReceivedNotification) => void;
}

/**
 * The demo's target system: an order book and a deploy service. It plays the real world ECP governs, so it
 * verifies the bearer token ECP's executor sends and honours Idempotency-Key (a retried call applies once).
 */
export interface DemoTarget {
  app: Hono;
  /** Side effects actually applied, in order (tests count them). */
  effects: Array<{ kind: 'refund' | 'deploy'; idempotencyKey: string; body: unknown }>;
  orders: Map<string, { total: number; refunded: number; currency: string; customer: string; disputed?: boolean }>;
  services: Map<string, { currentVersion: string; frozen: boolean }>;
  /** Notifications received with a valid signature, oldest first (the last KEPT_NOTIFICATIONS). */
  notifications: ReceivedNotification[];
  /** Notifications accepted since start, however many are kept (each event ID once). */
  receivedNotifications: number;
  /** Webhook requests refused (bad or missing signature, or no secret configured). */
  refusedNotifications: number;
}

/** One line for a notification: `<event> to <recipients>: <text> (<detail>)`. */
export function describeNotification(n: ReceivedNotification): string {
  const to = n.recipients.length > 0 ? n.recipients.join(', ') : '(nobody)';
  return `${n.event} to ${to}: ${n.text}${n.detail ? ` (${n.detail})` : ''}`;
}

/**
 * The demo target: `/orders`, `/services`, `/refunds`, `/deploys` and `GET /notifications` need the bearer token;
 * `POST /notifications` is ECP's notification webhook and needs a valid `X-Ecp-Signature` instead (an event ID seen
 * before is answered 200 and not kept again: a retry after a lost answer).
 */
export function createDemoTarget(token: string, options: DemoTargetOptions = {}): DemoTarget {
  const effects: DemoTarget['effects'] = [];
  const byKey = new Map<string, unknown>();
  const orders: DemoTarget['orders'] = new Map([
    ['order-1001', { total: 12_000, refunded: 0, currency: 'EUR', customer: 'Ada' }],
    ['order-1002', { total: 2_500, refunded: 0, currency: 'EUR', customer: 'Grace' }],
    ['order-1003', { total: 90_000, refunded: 10_000, currency: 'EUR', customer: 'Linus' }],
    // Under a payment dispute: refunds are forbidden unless a finance lead breaks glass (refunds.disputed-order).
    ['order-1004', { total: 4_000, refunded: 0, currency: 'EUR', customer: 'Marie', disputed: true }],
  ]);
  const target = { notifications: [] as ReceivedNotification[], receivedNotifications: 0, refusedNotifications: 0 };
  const seenEvents = new Set<string>();
  const services: DemoTarget['services'] = new Map([
    ['checkout', { currentVersion: '2.3.0', frozen: false }],
    ['billing', { currentVersion: '1.9.4', frozen: true }],
  ]);

  const app = new Hono();
  // Before the bearer check: ECP's notifier signs its webhook requests instead of sending the target's token.
  app.post('/notifications', async (c) => {
    const body = await c.req.text();
    if (!options.webhookSecret || !verifyWebhookSignature(options.webhookSecret, body, c.req.header(WEBHOOK_SIGNATURE_HEADER))) {
      target.refusedNotifications++;
      return c.json({ error: 'missing or invalid X-Ecp-Signature' }, 401);
    }
    let message: z.output<typeof messageSchema>;
    try {
      message = messageSchema.parse(JSON.parse(body));
    } catch (err) {
      return c.json({ error: `not a notification message: ${(err as Error).message}` }, 400);
    }
    const id = c.req.header(WEBHOOK_EVENT_ID_HEADER) ?? message.id;
    if (seenEvents.has(id)) return c.json({ duplicate: true });
    seenEvents.add(id);
    const received: ReceivedNotification = { receivedAt: new Date().toISOString(), ...message };
    target.notifications.push(received);
    target.receivedNotifications++;
    if (target.notifications.length > KEPT_NOTIFICATIONS) target.notifications.shift();
    options.onNotification?.(received);
    return c.json({ received: true });
  });
  // Compared in constant time over SHA-256 digests (equal lengths) with node:crypto: hono's own comparison of a
  // `token` goes through async WebCrypto, ≈ 1 ms of CPU per request, which the bench counted against ECP's executor.
  const expected = createHash('sha256').update(token).digest();
  app.use('*', bearerAuth({ verifyToken: (given) => timingSafeEqual(createHash('sha256').update(given).digest(), expected) }));
  // One line per notification, newest last: what a newcomer reads with curl.
  app.get('/notifications', (c) => c.text(target.notifications.map((n) => `${describeNotification(n)}\n`).join('')));
  app.get('/orders/:id', (c) => {
    const order = orders.get(c.req.param('id'));
    return order ? c.json({ orderId: c.req.param('id'), ...order }) : c.json({ error: 'no such order' }, 404);
  });
  app.get('/services/:name', (c) => {
    const service = services.get(c.req.param('name'));
    return service ? c.json({ service: c.req.param('name'), ...service }) : c.json({ error: 'no such service' }, 404);
  });
  const once = (kind: 'refund' | 'deploy', apply: (body: Record<string, unknown>) => unknown) => async (c: import('hono').Context) => {
    const key = c.req.header('idempotency-key');
    if (!key) return c.json({ error: 'Idempotency-Key header is required' }, 400);
    if (byKey.has(key)) return c.json(byKey.get(key) as object);
    const body = (await c.req.json()) as Record<string, unknown>;
    const result = apply(body);
    if (result instanceof Response) return result;
    effects.push({ kind, idempotencyKey: key, body });
    byKey.set(key, result);
    return c.json(result as object, 201);
  };
  app.post(
    '/refunds',
    once('refund', (body) => {
      const order = orders.get(String(body.orderId));
      if (!order) return new Response(JSON.stringify({ error: 'no such order' }), { status: 404 });
      order.refunded += Number(body.amount);
      return {
        refundId: `rf-${effects.filter((e) => e.kind === 'refund').length + 1}`,
        orderId: body.orderId,
        amount: body.amount,
        refundedTotal: order.refunded,
      };
    }),
  );
  app.post(
    '/deploys',
    once('deploy', (body) => {
      const service = services.get(String(body.service));
      if (!service) return new Response(JSON.stringify({ error: 'no such service' }), { status: 404 });
      if (service.currentVersion === String(body.version)) {
        return new Response(JSON.stringify({ error: `${String(body.service)} already runs ${service.currentVersion}` }), { status: 409 });
      }
      const previous = service.currentVersion;
      service.currentVersion = String(body.version);
      return {
        deployId: `dp-${effects.filter((e) => e.kind === 'deploy').length + 1}`,
        service: body.service,
        from: previous,
        to: body.version,
        environment: body.environment,
      };
    }),
  );
  app.get('/effects', (c) => c.json(effects));
  return {
    app,
    effects,
    orders,
    services,
    get notifications() {
      return target.notifications;
    },
    get receivedNotifications() {
      return target.receivedNotifications;
    },
    get refusedNotifications() {
      return target.refusedNotifications;
    },
  };
}

export function serveDemoTarget(target: DemoTarget, port: number): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch: target.app.fetch, port, hostname: '127.0.0.1' }, () => resolve(server));
  });
}
