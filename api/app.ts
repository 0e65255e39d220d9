import { OpenAPIHono } from '@hono/zod-openapi';
import { secureHeaders } from 'hono/secure-headers';
import { sameOrigin, requireSession } from './auth/middleware';
import type { ConsoleDeps, ConsoleEnv } from './deps';
import { toErrorResponse, validationHook } from './errors';
import { EcpError } from '../common/errors';
import { registerAttemptRoutes } from './routes/attempts';
import { registerEventRoutes } from './routes/events';
import { registerFreezeRoutes } from './routes/freezes';
import { registerHealthRoutes } from './routes/health';
import { registerSessionRoutes } from './routes/session';
import { registerOidcRoutes } from './routes/oidc';
import { registerUiRoutes } from './routes/ui';
import { SummaryReader } from '../client/summaries';
import { EscalationMarks } from './escalations';
import { strictJsonBodies } from './strictJson';

export const API_VERSION = '1.0.0';

/**
 * The web console: the JSON API under `/api` (OpenAPI document at `/api/openapi.json`) and the browser app at `/`.
 * Every failure answers `{ error: { code, message, field? } }`.
 */
export function createConsoleApp(deps: ConsoleDeps): OpenAPIHono<ConsoleEnv> {
  const log = deps.log ?? ((line: string) => console.error(line));
  const app = new OpenAPIHono<ConsoleEnv>({ defaultHook: validationHook });
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use('/api/*', sameOrigin());
  app.use('/api/*', strictJsonBodies());
  app.use('/api/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  registerHealthRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerOidcRoutes(app, deps);
  app.use('/api/inbox', requireSession(deps));
  app.use('/api/attempts', requireSession(deps));
  app.use('/api/attempts/*', requireSession(deps));
  // One reader for the inbox and its live stream: each attempt's record is read once for its summary.
  const summaries = new SummaryReader();
  const escalations = new EscalationMarks();
  registerAttemptRoutes(app, deps, summaries, escalations);
  registerEventRoutes(app, deps, summaries, escalations);
  app.use('/api/freezes', requireSession(deps));
  registerFreezeRoutes(app, deps);
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'ECP console API',
      version: API_VERSION,
      description:
        'The JSON API of the ECP web console. Sign in with POST /api/session (sets an HttpOnly SameSite=Strict cookie); ' +
        'send the returned csrfToken as the `x-csrf-token` header on every POST/DELETE. Errors: `{ error: { code, message, field? } }`.',
    },
  });
  // The MCP gateway (agents, bearer tokens): its own authentication and errors, none of the console's session rules.
  const mcp = deps.mcp;
  if (mcp) app.all('/mcp', (c) => mcp.handle(c.req.raw));
  if (deps.ui) registerUiRoutes(app, deps.ui);
  app.notFound((c) => c.json(new EcpError('not_found', `no route ${c.req.method} ${c.req.path}`).body(), 404));
  app.onError((err, c) => toErrorResponse(c, err, log));
  return app;
}
