import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSigningKey, parseProposal, proposalHash } from '../../common';
import { forgeDecision, refund, waitForStatus } from '../helpers/attempts';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { launchChromium, signIn as signInAs } from './chromium';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DOCS_IMAGES = join(process.cwd(), 'docs', 'images');

let plane: TestPlane;
let web: TestConsole;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  plane = await startTestPlane({
    policies: {
      'zz-fast-expiry.cedar':
        '@id("refunds.odd-amount-fast")\n@requires_approval("finance")\n@deadline("6s")\n' +
        'permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount == 7777 };\n',
    },
  });
  web = await startTestConsole(plane, { serve: true, ui: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await plane?.teardown();
});

const signIn = (page: Page, human: string): Promise<void> => signInAs(page, web, human);

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  return context.newPage();
}

/** order-1003 has 80 000 left to refund, so every later test's refund stays within the order. */
async function pendingRefund(amount: number, claims: Record<string, unknown> = { total: 90_000 }, orderId = 'order-1003') {
  const proposal = refund(amount, orderId, { claims: claims as never });
  const { attemptId } = await plane.ecp.propose(proposal);
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  return { attemptId, hash: proposalHash(parseProposal(proposal)) };
}

describe('web console in Chromium', () => {
  it('sign in → inbox → facts vs claims → approve with an in-browser signature → SUCCEEDED', async () => {
    const page = await newPage();
    // First page usable: navigation until the sign-in form can be typed into — once cold (first navigation of this
    // browser), then warm in a fresh context (no cache, no cookies). Figures, not assertions.
    const measure = async (p: Page) => {
      const started = Date.now();
      await p.goto(web.url);
      await p.getByLabel('Human ID').waitFor();
      const usableMs = Date.now() - started;
      const nav = await p.evaluate(() => {
        const [n] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
        const [view] = performance.getEntriesByName('ecp:first-view');
        return {
          firstViewMs: Math.round(view!.startTime),
          domContentLoadedMs: Math.round(n!.domContentLoadedEventEnd),
          loadMs: Math.round(n!.loadEventEnd),
        };
      });
      return { usableMs, ...nav };
    };
    const cold = await measure(page);
    const fresh = await newPage();
    const warm = await measure(fresh);
    await fresh.context().close();
    writeFileSync(join(ARTIFACTS, 'console-metrics.json'), JSON.stringify({ firstPageUsable: { cold, warm } }, null, 2));
    console.log(
      `[console] first page usable (in-page mark / seen by the test): cold ${cold.firstViewMs}/${cold.usableMs} ms, warm ${warm.firstViewMs}/${warm.usableMs} ms`,
    );

    const { attemptId, hash } = await pendingRefund(7500, { total: 15_000, customer: 'Ada' }, 'order-1001');
    await signIn(page, 'alice');
    const row = page.locator(`tr[data-attempt="${attemptId}"]`);
    await row.waitFor();
    // Live updates: a new attempt appears without a reload (Server-Sent Events), the count follows.
    const live = await pendingRefund(5500);
    await page.locator(`tr[data-attempt="${live.attemptId}"]`).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#inbox-count').textContent()).toBe('2');
    await page.getByRole('heading', { name: 'Awaiting your decision (2)' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'console-inbox.png'), fullPage: true });

    await row.getByRole('link').click();
    await page.locator('#proposal-hash').waitFor();
    expect(await page.locator('#proposal-hash').textContent()).toBe(hash);
    expect(await page.locator('#decide-hash').textContent()).toBe(hash);
    // The claim the facts contradict is highlighted; the one they confirm is not.
    await expect.poll(() => page.locator('#claims tr.mismatch').getAttribute('data-key')).toBe('total');
    expect(await page.locator('#claims tr[data-key="customer"]').getAttribute('class')).toBe('');
    expect(await page.locator('#mismatch-summary').textContent()).toMatch(/1 claim disagrees/);
    expect(await page.locator('#policy-ids').textContent()).toContain('refunds.large-needs-finance');

    // Approve stays disabled until the key is loaded and the hash is confirmed.
    expect(await page.locator('#approve').isDisabled()).toBe(true);
    await page.locator('#key-file').setInputFiles(join(plane.keysDir, 'alice.key'));
    await page.locator('#key-status .success').waitFor();
    expect(await page.locator('#approve').isDisabled()).toBe(true);
    await page.getByLabel(/I have reviewed/).check();
    await page.screenshot({ path: join(ARTIFACTS, 'console-decide.png'), fullPage: true });
    await page.locator('#approve').click();
    await expect.poll(() => page.locator('#attempt-status').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    await page.locator('#decisions').getByText('alice').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'console-attempt.png'), fullPage: true });
    mkdirSync(DOCS_IMAGES, { recursive: true });
    copyFileSync(join(ARTIFACTS, 'console-inbox.png'), join(DOCS_IMAGES, 'console-inbox.png'));
    copyFileSync(join(ARTIFACTS, 'console-attempt.png'), join(DOCS_IMAGES, 'console-attempt.png'));

    // The workflow verified the browser's signature over the shared statement format.
    const record = await plane.ecp.getRecord(attemptId);
    expect(record.decisions.accepted).toEqual([expect.objectContaining({ human: 'alice', verdict: 'approve', via: 'update' })]);
    // … and it verifies offline too, exactly as an auditor checks it (statement + signature against the directory key).
    const [accepted] = record.decisions.accepted;
    const aliceKey = plane.runtime.config.directory.humans.alice!.publicKeys[0]!;
    expect(findSigningKey({ statement: accepted!.statement, signature: accepted!.signature }, [aliceKey])).toBe(aliceKey);
    expect(accepted!.statement).toMatchObject({ attemptId, proposalHash: hash, human: 'alice', verdict: 'approve' });
    await page.context().close();
  });

  it('an approver outside the required group does not see it and is refused by the API; the reject path needs a reason', async () => {
    const { attemptId, hash } = await pendingRefund(6000);
    const bob = await newPage();
    await signIn(bob, 'bob');
    expect(await bob.locator(`tr[data-attempt="${attemptId}"]`).count()).toBe(0);
    await bob.goto(`${web.url}/attempts/${attemptId}`);
    await bob.locator('#cannot-decide').waitFor();
    expect(await bob.locator('#decide-panel').count()).toBe(0);
    // Bob signs with his own registered key and posts anyway: the workflow refuses and records it.
    const decision = forgeDecision(plane.key('bob'), { attemptId, proposalHash: hash, human: 'bob' });
    const answer = await bob.evaluate(
      async ({ id, body }) => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        const res = await fetch(`/api/attempts/${id}/decisions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as { error: { code: string; refusal?: string } } };
      },
      { id: attemptId, body: decision },
    );
    expect(answer).toEqual({
      status: 403,
      body: { error: expect.objectContaining({ code: 'refused', refusal: 'not_in_required_group' }) },
    });
    await bob.context().close();

    const alice = await newPage();
    await signIn(alice, 'alice');
    await alice.goto(`${web.url}/attempts/${attemptId}`);
    await alice.locator('#key-file').setInputFiles(join(plane.keysDir, 'alice.key'));
    await alice.locator('#key-status .success').waitFor();
    // The refused decision is on the page with its code.
    await alice.locator('#decisions').getByText('not_in_required_group').waitFor();
    await alice.locator('#reject').click();
    await alice.locator('#reason-error').waitFor();
    expect(await alice.locator('#reason').getAttribute('aria-invalid')).toBe('true');
    await alice.getByLabel(/Reason/).fill('The customer already got a voucher');
    await alice.locator('#reject').click();
    await expect.poll(() => alice.locator('#attempt-status').textContent(), { timeout: 30_000 }).toBe('REJECTED');
    await alice.context().close();
  });

  it('a key registered to someone else is refused in the browser before anything is signed (on a phone-sized screen)', async () => {
    const { attemptId } = await pendingRefund(6500);
    const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    await signIn(page, 'alice');
    await page.goto(`${web.url}/attempts/${attemptId}`);
    await page.locator('#key-file').setInputFiles(join(plane.keysDir, 'bob.key'));
    await page
      .locator('#decide-result')
      .getByText(/not registered to alice/)
      .waitFor();
    expect(await page.locator('#approve').isDisabled()).toBe(true);
    // Responsive: nothing forces the page wider than the phone (wide tables scroll inside their own box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'console-phone.png'), fullPage: true });
    await page.context().close();
  });

  it('polish: no navigation before sign-in, no literal Markdown, a favicon, summaries in inbox and attempt page, no sideways scrolling at 420 px', async () => {
    const page = await newPage();
    await page.goto(web.url);
    await page.getByLabel('Human ID').waitFor();
    // Signed out: the header shows no navigation (links that would only bounce to the sign-in form).
    expect(await page.locator('#nav').isVisible()).toBe(false);
    expect(await page.getByRole('link', { name: /All attempts/ }).isVisible()).toBe(false);
    expect(await page.locator('body').innerText()).not.toContain('`');
    // A favicon: the page names one, and the browser's default /favicon.ico is served too.
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    for (const path of [icon ?? '/missing-icon-link', '/favicon.ico']) {
      const res = await page.request.get(new URL(path, web.url).toString());
      expect(res.status(), path).toBe(200);
      expect(res.headers()['content-type'], path).toMatch(/^image\//);
    }

    const { attemptId } = await pendingRefund(7000);
    await signIn(page, 'alice');
    expect(await page.locator('#nav').isVisible()).toBe(true);
    // The inbox row says what the action does, from the action type's summary template.
    await expect
      .poll(() => page.locator(`tr[data-attempt="${attemptId}"] .summary`).textContent(), { timeout: 15_000 })
      .toBe('Refund 70.00 EUR on order-1003');
    await page.locator(`tr[data-attempt="${attemptId}"]`).getByRole('link').click();
    await page.locator('#decide-panel').waitFor();
    expect(await page.locator('#attempt-summary').textContent()).toBe('Refund 70.00 EUR on order-1003');
    expect(await page.locator('main').innerText()).not.toContain('`');

    // A refused decision (bob is not in finance) and an accepted one with a long reason: both decision tables and the
    // requirements table are filled, then viewed on a 420 px wide screen.
    const hash = (await page.locator('#proposal-hash').textContent())!;
    await plane.ecp.submitDecision(attemptId, forgeDecision(plane.key('bob'), { attemptId, proposalHash: hash, human: 'bob' }));
    await plane.ecp.decide(attemptId, {
      human: 'alice',
      verdict: 'approve',
      privateKey: plane.key('alice'),
      reason: 'Verified against the order history and the customer ticket; the goods came back damaged in transit.',
    });
    await waitForStatus(plane.ecp, attemptId, 'SUCCEEDED');
    await page.context().close();
    const narrow = await (await browser.newContext({ viewport: { width: 420, height: 900 } })).newPage();
    await signIn(narrow, 'alice');
    await narrow.goto(`${web.url}/attempts/${attemptId}`);
    await narrow.locator('#decisions').getByText('not_in_required_group').waitFor();
    const overflow = await narrow.evaluate(() =>
      [...document.querySelectorAll('table')]
        .map((t) => ({ caption: t.querySelector('caption')?.textContent ?? '', wrap: t.closest('.table-wrap')! }))
        .filter((t) => ['Approval requirements', 'Accepted decisions', 'Refused decisions'].includes(t.caption))
        .map((t) => ({ caption: t.caption, scrollWidth: t.wrap.scrollWidth, clientWidth: t.wrap.clientWidth })),
    );
    expect(overflow.map((t) => t.caption).sort()).toEqual(['Accepted decisions', 'Approval requirements', 'Refused decisions']);
    for (const t of overflow) expect(t.scrollWidth, `${t.caption} scrolls sideways`).toBeLessThanOrEqual(t.clientWidth);
    expect(await narrow.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(420);
    await narrow.context().close();
  });

  it('an attempt nobody decides shows EXPIRED', async () => {
    const { attemptId } = await pendingRefund(7777);
    const page = await newPage();
    await signIn(page, 'alice');
    await page.goto(`${web.url}/attempts/${attemptId}`);
    await page.locator('#countdown').waitFor();
    await expect.poll(() => page.locator('#attempt-status').textContent(), { timeout: 30_000, interval: 500 }).toBe('EXPIRED');
    await page.context().close();
  });

  it('after an attacker fails 30 sign-ins as alice from elsewhere, alice signs in and sees lookalike values flagged', async () => {
    // Failures from 127.0.0.2 (loopback too); the browser connects from 127.0.0.1, a source that did not fail.
    const failFrom = (secret: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL('/api/session', web.url);
        const body = JSON.stringify({ human: 'alice', secret });
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            localAddress: '127.0.0.2',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    for (let i = 0; i < 30; i++) expect([401, 429]).toContain(await failFrom(`guess-${i}`));

    const lookalike = '\u0440\u0430ypal'; // Cyrillic р and а: looks like "paypal"
    const proposal = { ...refund(6100, 'order-1003', { claims: { total: 90_000, merchant: 'cafe\u0301' } as never }) };
    proposal.parameters = { ...proposal.parameters, reason: `refund via ${lookalike}` };
    const { attemptId } = await plane.ecp.propose(proposal);
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const page = await newPage();
    await signIn(page, 'alice');
    await page.goto(`${web.url}/attempts/${attemptId}`);
    const reasonWarning = page.locator('tr[data-key="reason"] .text-warning-note');
    await reasonWarning.waitFor();
    expect(await reasonWarning.isVisible()).toBe(true);
    expect(await reasonWarning.textContent()).toMatch(/mixes Cyrillic and Latin/);
    expect(await page.locator('tr[data-key="orderId"] .text-warning-note').count()).toBe(0);
    expect(await page.locator('#claims tr[data-key="merchant"] .text-warning-note').textContent()).toMatch(/not NFC-normalised/);
    await page.context().close();
  });
});
