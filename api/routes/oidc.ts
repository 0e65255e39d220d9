import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { isHttps } from '../auth/middleware';
import { humanFromClaims, OIDC_CALLBACK_PATH, OIDC_START_PATH, OidcRefusal, PENDING_TTL_MS } from '../auth/oidc';
import { openSession } from './session';

/**
 * Carries the sealed started sign-in (api/auth/oidcPending.ts). SameSite=Lax, not Strict: the callback is a top-level navigation
 * coming from the identity provider's site, where a Strict cookie would not be sent. Scoped to /auth/oidc.
 */
const PENDING_COOKIE = 'ecp_oidc';
const PENDING_PATH = '/auth/oidc';

/**
 * Single sign-on routes (browser navigations, not the JSON API): `GET /auth/oidc/start` redirects to the identity
 * provider; `GET /auth/oidc/callback` checks the answer, maps it onto a directory human and opens the same session a
 * secret sign-in opens, then redirects to the console. A refusal is an HTML page saying why (status 403).
 */
export function registerOidcRoutes(app: OpenAPIHono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get(OIDC_START_PATH, async (c) => {
    const settings = deps.config().console?.oidc;
    if (!deps.oidc || !settings) return refusalPage(c, deps, 'Single sign-on is not configured for this console.', 404);
    const { pending, authorizationUrl } = await deps.oidc.start();
    setCookie(c, PENDING_COOKIE, pending, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: isHttps(c),
      path: PENDING_PATH,
      maxAge: Math.floor(PENDING_TTL_MS / 1000),
    });
    c.header('Cache-Control', 'no-store');
    return c.redirect(authorizationUrl.href, 302);
  });

  app.get(OIDC_CALLBACK_PATH, async (c) => {
    const pending = getCookie(c, PENDING_COOKIE);
    deleteCookie(c, PENDING_COOKIE, { path: PENDING_PATH });
    c.header('Cache-Control', 'no-store');
    try {
      // Read per callback, so a reload that removes SSO (or changes the mapping) applies at once.
      const settings = deps.config().console?.oidc;
      if (!deps.oidc || !settings) throw new OidcRefusal('single sign-on is not configured for this console');
      const claims = await deps.oidc.finish(pending, new URL(c.req.url).searchParams);
      const human = humanFromClaims(claims, settings, deps.config().directory);
      openSession(c, deps, { human, method: 'oidc' });
      return c.redirect('/', 302);
    } catch (err) {
      if (!(err instanceof OidcRefusal)) throw err;
      deps.log?.(`console: SSO sign-in refused: ${err.message}`);
      return refusalPage(c, deps, `Sign-in refused: ${err.message}.`, 403);
    }
  });
}

/** A plain page (no script, so the CSP needs nothing more) saying why, with the way back to the sign-in page. */
function refusalPage(c: Context, deps: ConsoleDeps, message: string, status: 403 | 404): Response {
  const css = deps.ui ? `<link rel="stylesheet" href="/assets/app-${deps.ui.version}.css">` : '';
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused · ECP console</title>${css}</head>` +
      `<body><main id="main"><h1>Sign-in refused</h1><p role="alert" id="signin-refused">${escapeHtml(message)}</p>` +
      `<p><a href="/">Back to sign-in</a></p></main></body></html>`,
    status,
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
