/**
 * The console's break-glass override and kill switch (issue 13) in Chromium, against a real plane: an override signed
 * in the browser closes the attempt flagged OVERRIDDEN; a freeze signed in the browser denies new attempts of its
 * scope and is listed; unfreezing there restores them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSigningKey } from '../../common';
import { readControls } from '../../client/controls';
import { waitForStatus } from '../helpers/attempts';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { GOVERNANCE_POLICIES, governed } from '../replay/governanceScenarios';
import { launchChromium, signedInPage } from './chromium';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');

let plane: TestPlane;
let web: TestConsole;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  plane = await startTestPlane({
    config: { controls: { freezeGroup: 'sre', freezeCache: '1s' } },
    policies: { 'governance.cedar': GOVERNANCE_POLICIES },
  });
  web = await startTestConsole(plane, { serve: true, ui: true });
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await plane?.teardown();
});

const signedIn = (human: string): Promise<Page> => signedInPage(browser, web, human);

describe('console governance controls in Chromium', () => {
  it('an override submitted in the console (justification required) closes the attempt, flagged OVERRIDDEN', async () => {
    const { attemptId } = await plane.ecp.propose(governed('outage'));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');

    // Alice (finance) may not override refunds.outage-forbid (sre, support): no override panel, and why.
    const alice = await signedIn('alice');
    await alice.goto(`${web.url}/attempts/${attemptId}`);
    await alice.locator('#proposal-hash').waitFor();
    expect(await alice.locator('#override-submit-panel').count()).toBe(0);

    const page = await signedIn('bob');
    await page.goto(`${web.url}/attempts/${attemptId}`);
    await page.locator('#override-submit-panel').waitFor();
    expect(await page.locator('#override-submit-panel').textContent()).toContain('refunds.outage-forbid');
    await page.locator('#override-key-file').setInputFiles(join(plane.keysDir, 'bob.key'));
    await page.locator('#override-key-status .success').waitFor();
    await page.locator('#override-confirm').check();
    // Without a justification nothing is signed or sent.
    await page.locator('#override-submit').click();
    expect(await page.locator('#override-error').textContent()).toContain('needs a justification');
    expect((await plane.ecp.getRecord(attemptId)).decisions.refusedTotal).toBe(0);

    await page.locator('#override-justification').fill('incident 4711: payment rail down, customer locked out');
    await page.locator('#override-submit').click();
    await expect.poll(() => page.locator('#attempt-status').textContent(), { timeout: 30_000 }).toBe('SUCCEEDED');
    await page.locator('#overridden-badge').waitFor();
    expect(await page.locator('#override-panel').textContent()).toContain('incident 4711');
    await page.screenshot({ path: join(ARTIFACTS, 'console-override.png'), fullPage: true });

    const record = await plane.ecp.awaitOutcome(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    const [accepted] = record.decisions.accepted;
    expect(accepted).toMatchObject({ human: 'bob', verdict: 'override', reason: 'incident 4711: payment rail down, customer locked out' });
    expect(accepted!.statement.overrides).toEqual(['refunds.outage-forbid']);
    // Signed in the browser with Bob's own key, verifiable offline like any decision.
    const bobKey = plane.runtime.config.directory.humans.bob!.publicKeys[0]!;
    expect(findSigningKey({ statement: accepted!.statement, signature: accepted!.signature }, [bobKey])).toBe(bobKey);
  });

  it('a freeze made in the console denies a new attempt and is listed; unfreezing there restores', async () => {
    // Alice is not in the freeze group: she sees the list, not the form.
    const alice = await signedIn('alice');
    await alice.getByRole('link', { name: 'Kill switch' }).click();
    await alice.getByRole('heading', { name: 'Kill switch' }).waitFor();
    await alice.getByText('you are not in it').waitFor();
    expect(await alice.locator('#freeze-panel').count()).toBe(0);
    // The API relays only statements made as the signed-in human, and validates them with the shared schema.
    const answers = await alice.evaluate(async () => {
      const { csrfToken } = (await (await fetch('/api/session')).json()) as { csrfToken: string };
      const post = async (body: unknown) => {
        const res = await fetch('/api/freezes', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as { error: { code: string; field?: string } } };
      };
      const statement = (human: string) => ({
        kind: 'ecp.freeze',
        op: 'freeze',
        scope: { kind: 'all' },
        reason: 'x',
        human,
        at: new Date().toISOString(),
        nonce: '0'.repeat(32),
      });
      return {
        asBob: await post({ statement: statement('bob'), signature: 'a'.repeat(128), key: 'b'.repeat(16) }),
        malformed: await post({ statement: statement('alice'), signature: 'nope', key: 'b'.repeat(16) }),
        unsigned: await post({ statement: statement('alice'), signature: 'a'.repeat(128), key: 'b'.repeat(16) }),
      };
    });
    expect(answers.asBob).toMatchObject({ status: 403, body: { error: { code: 'forbidden', field: 'statement.human' } } });
    expect(answers.malformed).toMatchObject({ status: 400, body: { error: { code: 'invalid_input', field: 'signature' } } });
    // Alice is not in the freeze group (and the signature is junk): the controls workflow refuses, nothing is frozen.
    expect(answers.unsigned).toMatchObject({ status: 403, body: { error: { code: 'refused' } } });
    expect((await readControls(plane.ecp.client)).freezes).toEqual([]);

    const page = await signedIn('bob');
    await page.getByRole('link', { name: 'Kill switch' }).click();
    await page.locator('#no-freezes').waitFor();
    await page.locator('#freeze-key-file').setInputFiles(join(plane.keysDir, 'bob.key'));
    await page.locator('#freeze-key-status .success').waitFor();
    await page.locator('#freeze-kind').selectOption('agent');
    await page.locator('#freeze-target').fill('refund-bot');
    await page.locator('#freeze-reason').fill('refund loop, INC-4711');
    await page.locator('#freeze-submit').click();
    await page.locator('#freeze-done').waitFor();
    const row = page.locator('#freezes-in-force tr[data-scope="agent refund-bot"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('bob');
    expect(await row.textContent()).toContain('refund loop, INC-4711');
    await page.screenshot({ path: join(ARTIFACTS, 'console-freezes.png'), fullPage: true });
    const state = await readControls(plane.ecp.client);
    expect(state.freezes).toEqual([expect.objectContaining({ scope: { kind: 'agent', agent: 'refund-bot' }, human: 'bob' })]);

    await new Promise((r) => setTimeout(r, 1_100)); // the workers' freeze cache (freezeCache: 1s)
    const { attemptId: denied } = await plane.ecp.propose(governed('small'));
    const deniedRecord = await plane.ecp.awaitOutcome(denied);
    expect(deniedRecord.status).toBe('DENIED');
    expect(deniedRecord.context?.problems.join(' ')).toContain('frozen: agent refund-bot by bob');

    await page.locator('#freeze-reason').fill('fixed in agent 1.4.2');
    await row.getByRole('button', { name: 'Unfreeze' }).click();
    await page.locator('#no-freezes').waitFor();
    expect(await page.locator('#freeze-done').textContent()).toContain('Unfrozen: agent refund-bot');
    expect((await readControls(plane.ecp.client)).freezes).toEqual([]);

    await new Promise((r) => setTimeout(r, 1_100));
    const { attemptId: allowed } = await plane.ecp.propose(governed('small'));
    expect((await plane.ecp.awaitOutcome(allowed)).status).toBe('SUCCEEDED');
  });
});
