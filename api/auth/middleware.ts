import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { EcpError } from '../../common/errors';

export const SESSION_COOKIE = 'ecp_session';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-site request defence for every unsafe request: a browser's Origin header, when present, must name this
 * server's host (SameSite=Strict on the cookie is the first line; this covers sign-in, which has no session). Hosts
 * are compared, not schemes, so a TLS-terminating proxy in front (https outside, http here) works.
 */
export function sameOrigin(): MiddlewareHandler {
  return async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header('origin');
      if (origin !== undefined) {
        let originHost: string | null = null;
        try {
          originHost = new URL(origin).host;
        } catch {
          // "null" or garbage: refused below.
        }
        const ownHost = c.req.header('x-forwarded-host') ?? c.req.header('host') ?? new URL(c.req.url).host;
        if (originHost !== ownHost) throw new EcpError('csrf', `cross-origin request from ${origin} refused`);
      }
    }
    await next();
  };
}

/**
 * Requires a live session (401 otherwise) and, on unsafe methods, the session's CSRF token in `x-csrf-token`
 * (403 otherwise). Puts the session in the context.
 */
export function requireSession(deps: ConsoleDeps): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const session = deps.sessions.get(getCookie(c, SESSION_COOKIE));
    if (!session) throw new EcpError('unauthenticated', 'sign in first (no session, or it expired)');
    if (UNSAFE.has(c.req.method) && c.req.header('x-csrf-token') !== session.csrfToken) {
      throw new EcpError('csrf', 'missing or wrong x-csrf-token header (reload the page)');
    }
    c.set('session', session);
    await next();
  };
}

/** True when the request came over HTTPS (directly or through a proxy that says so), so the cookie gets `Secure`. */
export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}
