import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcSignIn } from '../../api/auth/oidc';
import type { PlaneConfig } from '../../config/load';
import type { ConsoleOidcConfig } from '../../config/schema';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestIdp, type TestIdp } from '../helpers/idp';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { launchChromium } from './chromium';

// Single sign-on against a real OpenID Connect provider (oidc-provider) on localhost, the console on 127.0.0.1 (two
// sites, as in production), in Chromium: the IdP's own login and consent pages, the real redirects and cookies.

let plane: TestPlane;
let web: TestConsole;
let idp: TestIdp;
let browser: Browser;
let oidcSettings: ConsoleOidcConfig;

beforeAll(async () => {
  plane = await startTestPlane();
  // The plane's configuration with a console section: SSO only (no secrets), email claim mapped per human.
  web = await startTestConsole(plane, {
    serve: true,
    ui: true,
    config: (): PlaneConfig => ({
      ...plane.runtime.config,
      console: { humans: {}, sessionIdleTimeout: '30m', sessionMaxAge: '12h', oidc: oidcSettings },
    }),
  });
  idp = await startTestIdp({
    redirectUri: `${web.url}/auth/oidc/callback`,
    accounts: {
      alice: { email: 'alice@example.com' },
      mallory: { email: 'mallory@example.com' },
    },
  });
  oidcSettings = {
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: '${env:ECP_TEST_OIDC_SECRET}',
    redirectUrl: `${web.url}/auth/oidc/callback`,
    claim: 'email',
    humans: { 'alice@example.com': 'alice' },
    scopes: ['email', 'profile'],
    label: 'Sign in with Example SSO',
  };
  web.deps.oidc = await OidcSignIn.discover(oidcSettings, { env: { ECP_TEST_OIDC_SECRET: idp.clientSecret } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await idp?.close();
  await plane?.teardown();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  return context.newPage();
}

/** From the console's sign-in page through the IdP's login and consent pages, up to the redirect back. */
async function throughIdp(page: Page, login: string): Promise<void> {
  await page.goto(web.url);
  // SSO only is configured: no secret form, just the button.
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
  await page.waitForURL((url) => url.href.startsWith(idp.issuer));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

async function sessionStatus(page: Page): Promise<number> {
  return page.evaluate(async () => (await fetch('/api/session')).status);
}

describe('console single sign-on (OpenID Connect) in Chromium', () => {
  it('signs in through the identity provider → the inbox of the human the email claim maps to', async () => {
    const { attemptId } = await plane.ecp.propose(refund(7500, 'order-1001'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const page = await newPage();
    await page.goto(web.url);
    await page.getByRole('link', { name: 'Sign in with Example SSO' }).waitFor();
    expect(await page.getByLabel('Human ID').count()).toBe(0);
    await throughIdp(page, 'alice');
    await page.getByRole('heading', { name: /Awaiting your decision/ }).waitFor();
    await page.locator(`tr[data-attempt="${attemptId}"]`).waitFor();
    expect(await page.locator('#who').textContent()).toContain('Alice (Finance)');
    const session = await page.evaluate(async () => (await fetch('/api/session')).json());
    expect(session).toMatchObject({ human: 'alice', method: 'oidc' });
    // The same session as a secret sign-in: HttpOnly, SameSite=Strict; the pending-sign-in cookie is gone.
    const cookies = await page.context().cookies(web.url);
    expect(cookies.find((c) => c.name === 'ecp_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookies.find((c) => c.name === 'ecp_oidc')).toBeUndefined();
    expect(web.logs).toContain('console: alice signed in (oidc)');
    await page.context().close();
  });

  it('refuses an account whose email maps to no directory human, with a page saying so', async () => {
    const page = await newPage();
    await throughIdp(page, 'mallory');
    await page.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
    expect(await page.locator('#signin-refused').textContent()).toContain('email "mallory@example.com" is not a human in this plane');
    expect(await sessionStatus(page)).toBe(401);
    expect((await page.context().cookies(web.url)).find((c) => c.name === 'ecp_session')).toBeUndefined();
    await page.context().close();
  });

  it('refuses a callback whose state was tampered with in transit', async () => {
    const page = await newPage();
    // Alter the state in the redirect to the identity provider, which echoes it back to the callback: the browser
    // still holds the pending sign-in's cookie, so only the state check stands between this and a session.
    await page.route(`${web.url}/auth/oidc/start`, async (route) => {
      const started = await route.fetch({ maxRedirects: 0 });
      const location = new URL(started.headers()['location']!);
      location.searchParams.set('state', `${location.searchParams.get('state')!.slice(0, -2)}xx`);
      const headers = started.headersArray().filter((h) => h.name.toLowerCase() !== 'location');
      await route.fulfill({
        status: 302,
        headers: Object.fromEntries([...headers.map((h) => [h.name, h.value]), ['location', location.href]]),
      });
    });
    await throughIdp(page, 'alice');
    await page.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
    expect(await page.locator('#signin-refused').textContent()).toMatch(/did not check out: .*state/i);
    expect(await sessionStatus(page)).toBe(401);
    expect(web.logs.some((l) => /SSO sign-in refused: .*state/.test(l))).toBe(true);
    await page.context().close();
  });
});
