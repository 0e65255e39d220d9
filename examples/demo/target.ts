import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';

/**
 * The demo's target system: an order book and a deploy service. It plays the real world ECP governs, so it
 * verifies the bearer token ECP's executor sends and honours Idempotency-Key (a retried call applies once).
 */
export interface DemoTarget {
  app: Hono;
  /** Side effects actually applied, in order (tests count them). */
  effects: Array<{ kind: 'refund' | 'deploy'; idempotencyKey: string; body: unknown }>;
  orders: Map<string, { total: number; refunded: number; currency: string; customer: string }>;
  services: Map<string, { currentVersion: string; frozen: boolean }>;
}

export function createDemoTarget(token: string): DemoTarget {
  const effects: DemoTarget['effects'] = [];
  const byKey = new Map<string, unknown>();
  const orders: DemoTarget['orders'] = new Map([
    ['order-1001', { total: 12_000, refunded: 0, currency: 'EUR', customer: 'Ada' }],
    ['order-1002', { total: 2_500, refunded: 0, currency: 'EUR', customer: 'Grace' }],
    ['order-1003', { total: 90_000, refunded: 10_000, currency: 'EUR', customer: 'Linus' }],
  ]);
  const services: DemoTarget['services'] = new Map([
    ['checkout', { currentVersion: '2.3.0', frozen: false }],
    ['billing', { currentVersion: '1.9.4', frozen: true }],
  ]);

  const app = new Hono();
  app.use('*', bearerAuth({ token }));
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
  return { app, effects, orders, services };
}

export function serveDemoTarget(target: DemoTarget, port: number): Promise<ServerType> {
  return new Promise((resolve) => {
    const server = serve({ fetch: target.app.fetch, port, hostname: '127.0.0.1' }, () => resolve(server));
  });
}
