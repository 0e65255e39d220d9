/**
 * The walkthrough's governance steps (docs/walkthrough.md, steps 6–9; docs/governance.md,
 * docs/kill-switch-and-notifications.md), driven
 * through the real `ecp` command against a real dev server with the demo's policies, directory and governance
 * configuration (what `npm start` writes: `demoGovernanceConfig`): break-glass override and ratification on a
 * disputed order, escalation of a very large refund, the kill switch, and the notifications the demo target receives.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPlaneConfig } from '../../config/load';
import { DEMO_GOVERNANCE_POLICIES, demoGovernanceConfig } from '../../examples/demo/setup';
import { cliRecords, ECP_BIN, planeCliEnv, refundProposeArgs, runCommand } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { startTestPlane, type TestPlane } from '../helpers/plane';

let plane: TestPlane;
// Each step runs the CLI (a Node process start) 6-12 times; on a loaded 2-core machine that alone can take a minute.
const STEP_TIMEOUT = 240_000;

const ecp = (...args: string[]) => runCommand(process.execPath, [ECP_BIN, ...args], { env: planeCliEnv(plane), unset: ['ECP_KEYS_DIR'] });

const { showJson, untilStatus } = cliRecords(ecp);

/** `ecp propose` as the README writes it (a fresh idempotency key each time); returns the attempt ID it printed. */
async function propose(order: string, amount: number, reason: string, justification: string, ...more: string[]) {
  const r = await ecp(...refundProposeArgs({ order, amount, reason, justification }), ...more);
  expect(r.code, r.stderr).toBe(0);
  return { attemptId: r.stdout.match(/att-[0-9a-f]{32}/)![0], stdout: r.stdout };
}

/** `curl -s localhost:4100/notifications -H "authorization: Bearer …"`: what the demo target's receiver kept. */
async function notificationsText(): Promise<string> {
  const res = await fetch(`${plane.targetUrl}/notifications`, { headers: { authorization: `Bearer ${process.env.DEMO_TARGET_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const refundsFor = (attemptId: string) => plane.target.effects.filter((e) => e.kind === 'refund' && e.idempotencyKey === attemptId);

beforeAll(async () => {
  // The demo bundle as npm start writes it: the shipped policies plus the governance ones.
  plane = await startTestPlane({
    policies: { 'governance.cedar': readFileSync(DEMO_GOVERNANCE_POLICIES, 'utf8') },
    config: demoGovernanceConfig('http://localhost:8088'),
  });
});

afterAll(async () => {
  await plane?.teardown();
});

describe('the README governance walkthrough (demo configuration)', () => {
  it('npm start writes the kill switch and the notification webhook into the demo ecp.yaml, and it loads', () => {
    const config = loadPlaneConfig(join(plane.dataDir, 'demo', 'ecp.yaml'));
    expect(config.controls?.freezeGroup).toBe('sre');
    expect(config.notifications?.channels['demo-webhook']?.webhook?.url).toBe('${env:DEMO_TARGET_URL}/notifications');
  });

  it(
    '6. break glass on a disputed order: waits for an override only, frank overrides, it runs, alice ratifies',
    async () => {
      const { attemptId } = await propose('order-1004', 3000, 'charged twice', 'Customer was charged twice');
      await untilStatus(attemptId, 'AWAITING_DECISION');
      const shown = await ecp('show', attemptId);
      expect(shown.stdout).toMatch(/refunds\.disputed-order \(forbid\)\s*│\s*— override: finance-leads\s*│\s*override only/);
      // An approval cannot meet an override-only requirement.
      const approve = await ecp('approve', attemptId, '--as', 'frank');
      expect(approve.code).toBe(3);
      expect(approve.stderr).toMatch(/refused \(not_in_required_group\)/);

      const override = await ecp(
        'override',
        attemptId,
        '--as',
        'frank',
        '--justification',
        'chargeback withdrawn by the bank, ticket 8812',
      );
      expect(override.code, override.stderr).toBe(0);
      expect(override.stdout).toMatch(/^accepted: override accepted/);
      const done = await untilStatus(attemptId, 'SUCCEEDED');
      expect(refundsFor(attemptId)).toHaveLength(1);
      expect(done.decisions.accepted.map((d) => [d.human, d.verdict])).toEqual([['frank', 'override']]);
      const unratified = await ecp('show', attemptId);
      expect(unratified.stdout).toMatch(/SUCCEEDED {2}OVERRIDDEN/);
      expect(unratified.stdout).toContain('OVERRIDDEN by frank (refunds.disputed-order): chargeback withdrawn by the bank, ticket 8812');
      expect(unratified.stdout).toMatch(/NOT RATIFIED: needs a countersignature from finance by/);

      const ratify = await ecp('ratify', attemptId, '--as', 'alice', '--reason', 'checked with the bank');
      expect(ratify.code, ratify.stderr).toBe(0);
      expect(ratify.stdout).toMatch(/^accepted: ratification accepted/);
      await eventually('the ratification in ecp show', async () => {
        const r = await ecp('show', attemptId);
        return /ratified by alice at/.test(r.stdout) ? true : undefined;
      });
      const listed = await eventually('the attempt in ecp audit list --overridden', async () => {
        const r = await ecp('audit', 'list', '--overridden');
        return r.stdout.includes(attemptId) ? r.stdout : undefined;
      });
      expect(listed).toMatch(new RegExp(`${attemptId} +│ SUCCEEDED.*OVERRIDDEN by frank`));
    },
    STEP_TIMEOUT,
  );

  it(
    '7. escalation: a key-account refund waits for finance; after a minute the finance leads may decide too',
    async () => {
      const { attemptId } = await propose('order-1003', 4000, 'late delivery', 'Courier was a week late');
      await untilStatus(attemptId, 'AWAITING_DECISION');
      expect((await ecp('pending', '--as', 'frank')).stdout).toContain('Nothing awaits a decision by frank.');
      const pending = await eventually(
        'the escalated attempt in frank’s pending list',
        async () => {
          const r = await ecp('pending', '--as', 'frank');
          return r.stdout.includes(attemptId) ? r.stdout : undefined;
        },
        90_000,
      );
      expect(pending).toMatch(
        new RegExp(
          `${attemptId} +│ Refund 40\\.00 EUR on order-1003 +│ refund-bot .*│ finance, finance-leads \\(escalated to finance-leads\\) +│`,
        ),
      );
      const shown = await ecp('show', attemptId);
      expect(shown.stdout).toMatch(/escalated .*finance-leads may now decide too \(0 of 1 so far\)/);

      const approved = await ecp('approve', attemptId, '--as', 'frank', '--reason', 'courier confirmed the delay');
      expect(approved.code, approved.stderr).toBe(0);
      await untilStatus(attemptId, 'SUCCEEDED');
      expect(refundsFor(attemptId)).toHaveLength(1);
    },
    STEP_TIMEOUT,
  );

  it(
    '8. kill switch: bob (sre) freezes refund-bot, a new refund is DENIED citing the freeze, unfreeze restores',
    async () => {
      const freeze = await ecp('freeze', '--agent', 'refund-bot', '--reason', 'refund loop, INC-4711', '--as', 'bob');
      expect(freeze.code, freeze.stderr).toBe(0);
      expect(freeze.stdout).toMatch(/^FROZEN: agent refund-bot \(log entry \d+, /);
      // The workers' freeze cache (1 s): the walkthrough's next command comes later than that.
      await new Promise((r) => setTimeout(r, 1_500));
      const denied = await propose('order-1002', 500, 'late delivery', 'Courier was a week late', '--wait');
      expect(denied.stdout).toContain('DENIED');
      // `--wait` says why, as `ecp show` does.
      expect(denied.stdout).toMatch(/reason +frozen: agent refund-bot by bob/);
      const record = await showJson(denied.attemptId);
      expect(record.status).toBe('DENIED');
      expect(JSON.stringify(record.advice)).toContain('frozen: agent refund-bot by bob');
      expect(refundsFor(denied.attemptId)).toHaveLength(0);

      const list = await ecp('freeze', '--list');
      expect(list.stdout).toMatch(/freezes in force:[\s\S]*freeze │ agent refund-bot │ bob +│ [^│]+│ refund loop, INC-4711/);

      const unfreeze = await ecp('unfreeze', '--agent', 'refund-bot', '--reason', 'loop fixed in refund-bot 1.4.2', '--as', 'bob');
      expect(unfreeze.code, unfreeze.stderr).toBe(0);
      expect(unfreeze.stdout).toMatch(/^unfrozen: agent refund-bot/);
      await new Promise((r) => setTimeout(r, 1_500));
      const allowed = await propose('order-1002', 500, 'late delivery', 'Courier was a week late', '--wait');
      expect(allowed.stdout).toContain('SUCCEEDED');
    },
    STEP_TIMEOUT,
  );

  it('9. notifications: the demo target received every step above, signatures verified, with deep links', async () => {
    const text = await eventually(
      'the notifications of the steps above',
      async () => {
        const t = await notificationsText();
        return ['overridden', 'escalated', 'frozen', 'unfrozen', 'decided', 'executed', 'awaiting_decision'].every((e) =>
          t.includes(`${e} to `),
        )
          ? t
          : undefined;
      },
      30_000,
    );
    expect(text).toMatch(/^overridden to carol, frank: OVERRIDDEN: payments\.refund by refund-bot on order-1004 \(OVERRIDDEN by frank/m);
    expect(text).toMatch(
      /^escalated to alice, frank: escalated — now awaiting your decision: payments\.refund by refund-bot on order-1003/m,
    );
    expect(text).toMatch(/^frozen to bob, carol, dave, erin: FROZEN: agent refund-bot by bob \(refund loop, INC-4711\)$/m);
    expect(text).toMatch(/^unfrozen to bob, carol, dave, erin: unfrozen: agent refund-bot by bob/m);
    expect(plane.target.refusedNotifications).toBe(0);
    expect(plane.target.notifications.every((n) => n.link === null || n.link.startsWith('http://localhost:8088/attempts/att-'))).toBe(true);
    // Fail closed: a request without a valid signature is refused and not kept.
    const forged = await fetch(`${plane.targetUrl}/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ecp-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
      body: JSON.stringify({ id: 'x', event: 'frozen', text: 'forged', detail: null, link: null, recipients: [] }),
    });
    expect(forged.status).toBe(401);
    expect(await notificationsText()).not.toContain('forged');
  });
});
