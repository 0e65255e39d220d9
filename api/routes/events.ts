import type { OpenAPIHono } from '@hono/zod-openapi';
import { getCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import { EcpClient } from '../../client/ecpClient';
import { SummaryReader } from '../../client/summaries';
import { EscalationMarks } from '../escalations';
import { SESSION_COOKIE } from '../auth/middleware';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { errorBodySchema } from '../errors';
import { EcpError } from '../../common/errors';

/**
 * `GET /api/events` — Server-Sent Events for the live inbox: an `inbox` event (same body as `GET /api/inbox`) at
 * connect and whenever the inbox changes, and `signed-out` when the session ends. The stream does not keep the
 * session alive (it reads it without touching the idle timer). Pages that cannot use SSE poll `/api/inbox`.
 */
export function registerEventRoutes(
  app: OpenAPIHono<ConsoleEnv>,
  deps: ConsoleDeps,
  summaries = new SummaryReader(),
  escalations = new EscalationMarks(),
): void {
  const pollMs = deps.livePollMs ?? 2000;
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/api/events',
    tags: ['attempts'],
    summary:
      'Live inbox (Server-Sent Events): `inbox` events with the body of GET /api/inbox when it changes; `signed-out` when the session ends',
    responses: {
      200: { description: 'an event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      401: { description: 'error', content: { 'application/json': { schema: errorBodySchema } } },
    },
  });
  app.get('/api/events', (c) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (!deps.sessions.get(sessionId)) throw new EcpError('unauthenticated', 'sign in first (no session, or it expired)');
    return streamSSE(c, async (stream) => {
      let last = '';
      let closed = false;
      stream.onAbort(() => {
        closed = true;
      });
      while (!closed) {
        const session = deps.sessions.get(sessionId, { touch: false });
        if (!session) {
          await stream.writeSSE({ event: 'signed-out', data: '{}' });
          break;
        }
        try {
          const ecp = new EcpClient(deps.ecp.client, deps.config(), deps.ecp.listingSeal);
          const pending = await ecp.listPending({ human: session.human });
          const attempts = await escalations.mark(ecp, await summaries.summarize(ecp, pending, deps.config()));
          const body = JSON.stringify({ count: attempts.length, attempts });
          if (body !== last) {
            last = body;
            await stream.writeSSE({ event: 'inbox', data: body });
          } else await stream.write(': keep-alive\n\n');
        } catch (err) {
          await stream.writeSSE({ event: 'error', data: JSON.stringify({ message: (err as Error).message }) });
        }
        await stream.sleep(pollMs);
      }
    });
  });
}
