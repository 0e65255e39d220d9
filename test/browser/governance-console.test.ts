/**
 * The console's side of escalation and ratification (issue 13) in Chromium, against a real plane with short real
 * windows: an attempt whose first group stays silent escalates (timeline, badge, the escalation group's inbox, approved
 * there, executed once); an override ratified in the browser; an unratified override past its window flagged; and
 * EXPIRED, escalated and REJECTED attempts that read apart in the list, the inbox and on the attempt page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionStatement, findSigningKey, type SignedDecision } from '../../common';
import { signDecision } from '../../client/keys';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { GOVERNANCE_POLICIES, governed } from '../replay/governanceScenarios';
import { launchChromium, signedInPage } from './chromium';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/**
 * Windows for the console: finance silent for 6 s → sre may decide too, a reminder 8 s in; an override whose
 * ratification window (120 s) leaves time to ratify in the browser; a 3 s deadline that nobody meets.
 */
const CONSOLE_POLICIES = `
@id("refunds.console-escalating")
@requires_approval("finance")
@deadline("60s")
@escalate_after("6s")
@escalate_to("sre")
@remind_before("52s")
permit (principal, action == Action::"payments.refund", resource)
when { principal.scopes.contains("payments:refund") && context.parameters.reason == "console-escalate" };

@id("refunds.console-ratify")
@override_by("sre")
@ratify_by("sre")
@ratify_within("120s")
forbid (principal, action == Action::"payments.refund", resource)
when { context.parameters.reason == "console-ratify" };

@id("refunds.console-expiring")
@requires_approval("finance")
@deadline("3s")
permit (principal, action == Action::"payments.refund", resource)
when { principal.scopes.contains("payments:refund") && context.parameters.reason == "console-expire" };
`;

let plane: TestPlane;
let web: TestConsole;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  plane = await startTestPlane({ policies: { 'governance.cedar': GOVERNANCE_POLICIES, 'console.cedar': CONSOLE_POLICIES } });
  web = await startTestConsole(plane, { serve: true, ui: true });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await plane?.teardown();
});

const signedIn = (human: string): Promise<Page> => signedInPage(browser, web, human);

/** Posts a signed decision through the page's own session (cookie + CSRF token), as the console would. */
async function postDecision(page: Page, attemptId: string, decision: SignedDecision) {
  return page.evaluate(
    async ({ attemptId, decision }) => {
      const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const res = await fetch(`/api/attempts/${attemptId}/decisions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: JSON.stringify(decision),
      });
      return { status: res.status, body: (await res.json()) as { error?: { code: string; refusal?: string; message: string } } };
    },
    { attemptId, decision },
  );
}

/** A ratification signed in Node with `human`'s key (the same statement builder the console uses). */
async function ratification(attemptId: string, human: string): Promise<SignedDecision> {
  const record = await plane.ecp.getRecord(attemptId);
  return signDecision(decisionStatement({ attemptId, proposalHash: record.proposalHash, verdict: 'ratify', human }), plane.key(human));
}

async function waitForEscalation(attemptId: string) {
  await expect
    .poll(async () => (await plane.ecp.getRecord(attemptId)).governance?.escalations.length ?? 0, { timeout: 30_000, interval: 250 })
    .toBeGreaterThan(0);
}

describe('console escalation and ratification in Chromium', () => {
  it('a silent first group escalates: timeline and badge, the escalation group approves from its inbox, it runs once', async () => {
    const order = plane.target.orders.get('order-1002')!;
    const { attemptId } = await plane.ecp.propose(governed('console-escalate', 100, 'order-1002'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    // Before the window passes only finance awaits it: not in Bob's (sre) inbox.
    expect((await plane.ecp.listPending({ human: 'bob' })).map((a) => a.attemptId)).not.toContain(attemptId);

    // Alice (finance) watches the attempt page: it follows the escalation and the reminder by itself.
    const alice = await signedIn('alice');
    await alice.goto(`${web.url}/attempts/${attemptId}`);
    await alice.locator('#escalated-badge').waitFor({ timeout: 30_000 });
    expect(await alice.locator('#status-reading').textContent()).toMatch(/^Escalated: still awaiting a decision; sre may now decide too/);
    await alice.locator('tr[data-event="escalated"]').waitFor();
    expect(await alice.locator('tr[data-event="escalated"]').textContent()).toContain('sre');
    await alice.locator('tr[data-event="reminder"]').waitFor({ timeout: 30_000 });
    await alice.screenshot({ path: join(ARTIFACTS, 'console-escalated.png'), fullPage: true });

    // Bob (sre) now has it in his inbox, marked as escalated to his group, and approves it there.
    const bob = await signedIn('bob');
    const row = bob.locator(`#inbox-list tr[data-attempt="${attemptId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.escalated-to').textContent()).toBe('escalated to sre');
    const before = order.refunded;
    await row.getByRole('link').click();
    await bob.locator('#decide-panel').waitFor();
    await bob.locator('#key-file').setInputFiles(join(plane.keysDir, 'bob.key'));
    await bob.locator('#key-status .success').waitFor();
    await bob.locator('#confirm-hash').check();
    await bob.locator('#approve').click();
    await expect.poll(() => bob.locator('#attempt-status').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');

    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.verdict])).toEqual([['bob', 'approve']]);
    expect(record.requirements[0]).toMatchObject({ escalatedTo: ['sre'], approvedBy: ['bob'], met: true });
    expect(order.refunded - before).toBe(100); // executed exactly once
  });

  it('an override is flagged, then ratified in the browser; the overrider and the wrong group are refused', async () => {
    const { attemptId } = await plane.ecp.propose(governed('console-ratify'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const bob = await signedIn('bob');
    await bob.goto(`${web.url}/attempts/${attemptId}`);
    await bob.locator('#override-key-file').setInputFiles(join(plane.keysDir, 'bob.key'));
    await bob.locator('#override-key-status .success').waitFor();
    await bob.locator('#override-justification').fill('incident 4712: refunds blocked');
    await bob.locator('#override-confirm').check();
    await bob.locator('#override-submit').click();
    await expect.poll(() => bob.locator('#attempt-status').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    await bob.locator('#overridden-badge').waitFor();
    await bob.locator('#not-ratified-badge').waitFor();
    expect(await bob.locator('#ratification').textContent()).toContain('Needs a countersignature from sre');
    // The overrider may not ratify their own override: no panel, the reason shown, and the API relays the refusal.
    await bob.locator('#cannot-ratify').waitFor();
    expect(await bob.locator('#cannot-ratify').textContent()).toContain('"bob" made the override; a second human must ratify it');
    expect(await bob.locator('#ratify-panel').count()).toBe(0);
    expect(await postDecision(bob, attemptId, await ratification(attemptId, 'bob'))).toMatchObject({
      status: 403,
      body: { error: { code: 'refused', refusal: 'duplicate_approver' } },
    });
    // Alice is in finance, not sre.
    const alice = await signedIn('alice');
    await alice.goto(`${web.url}/attempts/${attemptId}`);
    await alice.locator('#cannot-ratify').waitFor();
    expect(await alice.locator('#cannot-ratify').textContent()).toContain('"alice" is in none of the groups that may ratify (sre)');
    expect(await alice.locator('#ratify-panel').count()).toBe(0);
    expect(await postDecision(alice, attemptId, await ratification(attemptId, 'alice'))).toMatchObject({
      status: 403,
      body: { error: { code: 'refused', refusal: 'not_in_ratify_group' } },
    });

    // Erin (sre, not the overrider) countersigns on the page; Bob's page (still open) follows to RATIFIED.
    const erin = await signedIn('erin');
    await erin.goto(`${web.url}/attempts/${attemptId}`);
    await erin.locator('#ratify-panel').waitFor();
    expect(await erin.locator('#ratify-panel').textContent()).toContain('incident 4712: refunds blocked');
    await erin.locator('#ratify-key-file').setInputFiles(join(plane.keysDir, 'erin.key'));
    await erin.locator('#ratify-key-status .success').waitFor();
    expect(await erin.locator('#ratify-submit').isDisabled()).toBe(true); // until the confirmation is ticked
    await erin.locator('#ratify-reason').fill('reviewed INC-4712');
    await erin.locator('#ratify-confirm').check();
    await erin.locator('#ratify-submit').click();
    await erin.locator('#ratified-badge').waitFor({ timeout: 30_000 });
    expect(await erin.locator('#ratification').textContent()).toContain('by erin');
    expect(await erin.locator('#ratify-panel').count()).toBe(0);
    await bob.locator('#ratified-badge').waitFor({ timeout: 30_000 });
    await erin.screenshot({ path: join(ARTIFACTS, 'console-ratified.png'), fullPage: true });

    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.governance?.ratification).toMatchObject({ groups: ['sre'], ratifiedBy: 'erin' });
    const ratify = record.decisions.accepted.find((d) => d.verdict === 'ratify')!;
    expect(ratify).toMatchObject({ human: 'erin', reason: 'reviewed INC-4712' });
    // Signed in the browser with Erin's own key: verifiable offline like any decision.
    const erinKey = plane.runtime.config.directory.humans.erin!.publicKeys[0]!;
    expect(findSigningKey({ statement: ratify.statement, signature: ratify.signature }, [erinKey])).toBe(erinKey);
  });

  it('an override left unratified past its window is flagged NOT RATIFIED, and nobody is offered to ratify it', async () => {
    const { attemptId } = await plane.ecp.propose(governed('ratify')); // refunds.ratified-forbid: ratify within 4 s
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'override', reason: 'payment rail down', privateKey: plane.key('bob') });
    const alice = await signedIn('alice');
    await alice.goto(`${web.url}/attempts/${attemptId}`);
    await expect
      .poll(() => alice.locator('#ratification').textContent(), { timeout: 30_000 })
      .toContain('The ratification window ended at');
    expect(await alice.locator('#not-ratified-badge').textContent()).toBe('NOT RATIFIED');
    expect(await alice.locator('#overridden-badge').textContent()).toBe('OVERRIDDEN');
    expect(await alice.locator('#ratify-panel').count()).toBe(0);
    expect(await alice.locator('#cannot-ratify').textContent()).toContain('the ratification window ended at');
    await alice.locator('tr[data-event="ratification_missed"]').waitFor();
    await alice.screenshot({ path: join(ARTIFACTS, 'console-unratified.png'), fullPage: true });
    const record = await plane.ecp.getRecord(attemptId);
    expect(record.governance?.ratification?.ratifiedBy).toBeNull();
  });

  it('EXPIRED, escalated and REJECTED read apart in the list, the inbox and on the attempt page', async () => {
    const expired = (await plane.ecp.propose(governed('console-expire', 100, 'order-1002'))).attemptId;
    const escalated = (await plane.ecp.propose(governed('console-escalate', 100, 'order-1002'))).attemptId;
    const rejected = (await plane.ecp.propose(refund(6_000, 'order-1001'))).attemptId; // large: finance must approve
    await waitForStatus(plane.ecp, rejected, 'AWAITING_DECISION');
    await plane.ecp.decide(rejected, { human: 'alice', verdict: 'reject', reason: 'already refunded', privateKey: plane.key('alice') });
    await waitForStatus(plane.ecp, rejected, 'REJECTED');
    await waitForStatus(plane.ecp, expired, 'EXPIRED', 30_000);
    await waitForEscalation(escalated);

    const bob = await signedIn('bob');
    // The inbox: the escalated attempt, marked; neither closed one is there.
    const inboxRow = bob.locator(`#inbox-list tr[data-attempt="${escalated}"]`);
    await inboxRow.waitFor({ timeout: 15_000 });
    expect(await inboxRow.locator('.escalated-to').textContent()).toBe('escalated to sre');
    expect(await bob.locator(`#inbox-list tr[data-attempt="${expired}"], #inbox-list tr[data-attempt="${rejected}"]`).count()).toBe(0);

    // All attempts: three different readings, and EXPIRED is not styled like REJECTED.
    await bob.goto(`${web.url}/all?agent=refund-bot`);
    const cell = (id: string) => bob.locator(`#all-list tr[data-attempt="${id}"] td:nth-child(2)`);
    await cell(escalated).waitFor();
    expect(await cell(expired).textContent()).toBe('EXPIRED');
    expect(await cell(rejected).textContent()).toBe('REJECTED');
    expect(await cell(escalated).textContent()).toBe('AWAITING_DECISIONescalated to sre');
    const colour = (id: string) =>
      cell(id)
        .locator('.status')
        .evaluate((el) => getComputedStyle(el).color);
    expect(await colour(expired)).not.toBe(await colour(rejected));
    await bob.screenshot({ path: join(ARTIFACTS, 'console-outcomes-list.png'), fullPage: true });

    // The attempt page says what each one means.
    const reading = async (id: string) => {
      await bob.goto(`${web.url}/attempts/${id}`);
      await bob.locator('#status-reading').waitFor();
      return bob.locator('#status-reading').textContent();
    };
    expect(await reading(expired)).toMatch(
      /^Expired: the deadline passed without the decisions it needed\. Nothing ran \(fail closed\)\. Nobody rejected it\.$/,
    );
    expect(await bob.locator('#escalated-badge').count()).toBe(0);
    expect(await reading(rejected)).toBe('Rejected: alice ("already refunded") decided it must not run. Nothing ran.');
    expect(await reading(escalated)).toMatch(/^Escalated: still awaiting a decision; sre may now decide too \(1 escalation step/);
    expect(await bob.locator('#escalated-badge').textContent()).toBe('ESCALATED');
  });
});
