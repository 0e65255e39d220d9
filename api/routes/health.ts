import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ConsoleDeps, ConsoleEnv } from '../deps';

const READY_TIMEOUT_MS = 2_000;

/**
 * Liveness and readiness for load balancers and orchestrators, outside `/api` (no session, no CSRF): `GET /healthz`
 * answers 200 while the console serves; `GET /readyz` answers 200 when the console's Temporal connection answers
 * within 2 s, else 503 saying why. Neither reveals anything about attempts.
 */
export function registerHealthRoutes(app: OpenAPIHono<ConsoleEnv>, deps: Pick<ConsoleDeps, 'ecp'>): void {
  app.get('/healthz', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.text('ok\n');
  });
  app.get('/readyz', async (c) => {
    c.header('Cache-Control', 'no-store');
    const client = deps.ecp.client;
    try {
      await client.connection.withDeadline(Date.now() + READY_TIMEOUT_MS, () => client.workflowService.getSystemInfo({}));
      return c.text('ready\n');
    } catch (err) {
      return c.text(`not ready: Temporal unreachable (${(err as Error).message})\n`, 503);
    }
  });
}
