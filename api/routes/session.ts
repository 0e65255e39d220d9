import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { clientAddress } from '../auth/clientAddress';
import { isHttps, requireSession, SESSION_COOKIE } from '../auth/middleware';
import type { Session } from '../auth/sessions';
import { errorBodySchema } from '../errors';
import { EcpError } from '../../common/errors';
import { sessionSchema, signInMethodsSchema, signInSchema } from '../schemas';
import type { Identity } from '../auth/authenticator';
import { OIDC_START_PATH } from '../auth/oidc';

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: 'error', content: { 'application/json': { schema: errorBodySchema } } }]));

const signIn = createRoute({
  method: 'post',
  path: '/api/session',
  tags: ['session'],
  summary: 'Sign in as a human from the directory; sets the HttpOnly session cookie',
  request: { body: { required: true, content: { 'application/json': { schema: signInSchema } } } },
  responses: {
    200: { description: 'signed in', content: { 'application/json': { schema: sessionSchema } } },
    ...errors(400, 401, 403, 429),
  },
});

const current = createRoute({
  method: 'get',
  path: '/api/session',
  tags: ['session'],
  summary: 'The signed-in human and the CSRF token for this session',
  responses: { 200: { description: 'the session', content: { 'application/json': { schema: sessionSchema } } }, ...errors(401) },
});

const signOut = createRoute({
  method: 'delete',
  path: '/api/session',
  tags: ['session'],
  summary: 'Sign out (needs the x-csrf-token header)',
  responses: { 204: { description: 'signed out' }, ...errors(401, 403) },
});

const methods = createRoute({
  method: 'get',
  path: '/api/sign-in-methods',
  tags: ['session'],
  summary: 'How humans may sign in here: secrets, single sign-on (OpenID Connect), or both',
  responses: { 200: { description: 'the sign-in methods', content: { 'application/json': { schema: signInMethodsSchema } } } },
});

/**
 * Starts a session for a signed-in identity (secret or SSO alike): any session the browser had is ended first, so
 * every sign-in gets a fresh ID (no session fixation); the cookie is HttpOnly, SameSite=Strict, Secure over HTTPS.
 */
export function openSession(c: Context, deps: ConsoleDeps, identity: Identity): Session {
  const old = getCookie(c, SESSION_COOKIE);
  if (old) deps.sessions.delete(old);
  const session = deps.sessions.create(identity);
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: '/',
    maxAge: Math.floor(deps.sessions.limits.maxAgeMs / 1000),
  });
  deps.log?.(`console: ${identity.human} signed in (${identity.method})`);
  return session;
}

export function registerSessionRoutes(app: OpenAPIHono<ConsoleEnv>, deps: ConsoleDeps): void {
  const describe = (session: Session) => {
    const human = deps.config().directory.humans[session.human];
    return {
      human: session.human,
      name: human?.name ?? null,
      groups: human?.groups ?? [],
      publicKeys: human?.publicKeys ?? [],
      method: session.method,
      csrfToken: session.csrfToken,
      expiresAt: new Date(deps.sessions.expiresAt(session)).toISOString(),
    };
  };

  app.openapi(signIn, async (c) => {
    const { human, secret } = c.req.valid('json');
    // Throttled per source and per human-and-source, never per human alone: failures elsewhere cannot lock anyone out.
    const source = clientAddress(c, deps.trustedProxies);
    const wait = deps.signInThrottle.retryAfterMs(source, human);
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      throw new EcpError('rate_limited', `too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} s`);
    }
    const authenticated = await deps.authenticator.authenticate({ human, secret });
    // Only humans in the current directory: removing someone there ends their sign-ins at once.
    const identity = authenticated && deps.config().directory.humans[authenticated.human] ? authenticated : null;
    if (!identity) {
      deps.signInThrottle.failed(source, human);
      throw new EcpError('unauthenticated', 'unknown human or wrong secret');
    }
    deps.signInThrottle.succeeded(source, human);
    return c.json(describe(openSession(c, deps, identity)), 200);
  });

  app.openapi(methods, (c) => {
    const settings = deps.config().console;
    const oidc = deps.oidc && settings?.oidc ? { label: settings.oidc.label, startUrl: OIDC_START_PATH } : null;
    // Secrets stay offered unless SSO is configured and no human has a secret (either or both may be configured).
    return c.json({ secret: !oidc || Object.keys(settings?.humans ?? {}).length > 0, oidc }, 200);
  });

  app.use('/api/session', async (c, next) => (c.req.method === 'POST' ? next() : requireSession(deps)(c, next)));

  app.openapi(current, (c) => c.json(describe(c.get('session')), 200));

  app.openapi(signOut, (c) => {
    deps.sessions.delete(c.get('session').id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.body(null, 204);
  });
}
