/**
 * The walkthrough (README and docs/walkthrough.md), driven through the real `ecp` command (node bin/ecp.mjs) and the plain Temporal CLI,
 * against a real dev server with the demo plane's worker in this process.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptIdFor } from '../../common';
import { loadHumanKey, publicKeyHex } from '../../client/keys';
import { cliRecords, ECP_BIN, planeCliEnv, refundProposeArgs, ROOT, runCommand } from '../helpers/cli';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/temporalServers';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { scratchDir } from '../helpers/scratchDir';

let plane: TestPlane;
let scratch: string;

const run = (file: string, args: string[], env: Record<string, string> = {}) =>
  runCommand(file, args, { env: { ...planeCliEnv(plane), ...env }, unset: ['ECP_KEYS_DIR'] });
const ecp = (...args: string[]) => run(process.execPath, [ECP_BIN, ...args]);
const temporal = (...args: string[]) => run('temporal', [...args, '--address', plane.address]);

const { showJson, untilStatus } = cliRecords(ecp);

function refundArgs(order: string, amount: number | string, key: string): string[] {
  return [
    ...refundProposeArgs({ order, amount, reason: 'damaged in transit', justification: 'Customer sent photos of the damage' }),
    '--idempotency-key',
    key,
  ];
}

async function proposeRefund(order: string, amount: number, key: string): Promise<string> {
  const r = await ecp(...refundArgs(order, amount, key), '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { attemptId: string }).attemptId;
}

const refundsFor = (attemptId: string) => plane.target.effects.filter((e) => e.kind === 'refund' && e.idempotencyKey === attemptId);

beforeAll(async () => {
  plane = await startTestPlane();
  scratch = scratchDir('ecp-cli');
});

afterAll(async () => {
  await plane?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('ecp CLI', () => {
  it('walks through propose → pending → show → refused self-approval → approve → SUCCEEDED, running the refund once', async () => {
    const proposed = await ecp(...refundArgs('order-1001', 7500, 'walkthrough-1'), '--claims', '{"orderTotal":12000,"total":11000}');
    expect(proposed.code, proposed.stderr).toBe(0);
    const attemptId = proposed.stdout.match(/att-[0-9a-f]{32}/)?.[0];
    expect(attemptId).toBe(attemptIdFor('refund-bot', 'walkthrough-1'));
    expect(proposed.stdout).toMatch(/Created attempt/);
    expect(proposed.stdout).toMatch(/proposal hash\s+sha256:[0-9a-f]{64}/);

    const pending = await eventually('the attempt in alice’s pending list', async () => {
      const r = await ecp('pending', '--as', 'alice', '--json');
      expect(r.code, r.stderr).toBe(0);
      const list = JSON.parse(r.stdout) as Array<{ attemptId: string; awaitingGroups: string[]; deadline: string | null }>;
      return list.find((a) => a.attemptId === attemptId);
    });
    expect(pending.awaitingGroups).toEqual(['finance']);
    // The action type's one-line summary, rendered from the proposal (examples/demo/action-types.yaml).
    expect(pending).toMatchObject({ summary: 'Refund 75.00 EUR on order-1001' });
    expect(pending.deadline).not.toBeNull();
    // carol owns refund-bot, so it is not hers to decide
    const carols = await ecp('pending', '--as', 'carol', '--json');
    expect((JSON.parse(carols.stdout) as Array<{ attemptId: string }>).map((a) => a.attemptId)).not.toContain(attemptId);
    const table = await ecp('pending', '--as', 'alice');
    expect(table.stdout).toContain(attemptId);
    expect(table.stdout).toMatch(/│ in (\d+m|1h) +│/);
    expect(table.stdout).toMatch(new RegExp(`${attemptId} +│ Refund 75\\.00 EUR on order-1001 +│ refund-bot`));
    // Without --as too (no directory needed): the summary needs only the action types.
    expect((await ecp('pending')).stdout).toContain('Refund 75.00 EUR on order-1001');

    const shown = await ecp('show', attemptId!);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('AWAITING_DECISION');
    expect(shown.stdout).toContain('refund-bot (owner: carol)');
    expect(shown.stdout).toMatch(/summary +Refund 75\.00 EUR on order-1001\n/);
    expect(shown.stdout).toContain('"amount": 7500');
    expect(shown.stdout).toContain('refunds.large-needs-finance');
    expect(shown.stdout).toMatch(/refunds\.large-needs-finance\s*│\s*finance\s*│\s*0\/1/);
    expect(shown.stdout).toMatch(/total\s*│\s*11000\s*│\s*12000\s*│\s*MISMATCH/);
    expect(shown.stdout).not.toMatch(/orderTotal.*MISMATCH/);

    const byOwner = await ecp('approve', attemptId!, '--as', 'carol');
    expect(byOwner.code).toBe(3);
    expect(byOwner.stderr).toMatch(/^ecp: refused \(self_approval\)/);
    expect(refundsFor(attemptId!)).toHaveLength(0);

    const approved = await ecp('approve', attemptId!, '--as', 'alice', '--reason', 'photos check out');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/^accepted: approval accepted/);

    const record = await untilStatus(attemptId!, 'SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.verdict, d.via])).toEqual([['alice', 'approve', 'update']]);
    expect(record.decisions.refused.map((d) => [d.human, d.code])).toEqual([['carol', 'self_approval']]);
    expect(refundsFor(attemptId!)).toHaveLength(1);
    expect(refundsFor(attemptId!)[0]!.body).toEqual({ orderId: 'order-1001', amount: 7500, reason: 'damaged in transit' });

    const after = await ecp('show', attemptId!);
    expect(after.stdout).toContain('SUCCEEDED');
    expect(after.stdout).toMatch(/alice\s*│\s*approve/);
    expect(after.stdout).toMatch(/carol\s*│\s*self_approval/);
  });

  it('rejects invalid parameters naming the field, starting nothing (exit 2)', async () => {
    const r = await ecp(...refundArgs('order-1002', '7500', 'bad-params-1'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ecp: .*parameters\.amount/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const missing = await ecp('show', attemptIdFor('refund-bot', 'bad-params-1'));
    expect(missing.code).toBe(4);

    const args = refundArgs('order-1002', 1, 'bad-params-2');
    args[args.indexOf('--params') + 1] = '{"orderId": ';
    const notJson = await ecp(...args);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/parameters/);
  });

  it('refuses JSON it cannot keep exactly (numbers that do not round-trip, duplicate and __proto__ keys), naming the field', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [
        '--params',
        '{"orderId":"order-1002","amount":12345678901234567890,"reason":"x"}',
        /field "parameters\.amount" has the number 12345678901234567890/,
      ],
      ['--params', '{"orderId":"order-1002","amount":1e400,"reason":"x"}', /field "parameters\.amount" has the number 1e400/],
      ['--params', '{"orderId":"order-1002","amount":0.10000000000000000001,"reason":"x"}', /field "parameters\.amount"/],
      ['--params', '{"orderId":"order-1002","amount":700,"amount":7500000,"reason":"x"}', /field "parameters\.amount" appears twice/],
      ['--params', '{"orderId":"order-1002","amount":700,"reason":"x","__proto__":{"amount":1}}', /field "parameters\.__proto__"/],
      ['--claims', '{"total":12000,"total":1}', /field "claims\.total" appears twice/],
      ['--params', '{"orderId":"order-1002","amount":9007199254740993,"reason":"x"}', /field "parameters\.amount"/],
    ];
    for (const [i, [flag, json, reason]] of cases.entries()) {
      const file = join(scratch, `unkeepable-${i}.json`);
      writeFileSync(file, json);
      // Each CLI run costs a process start: read from a file only for the first case.
      for (const value of i === 0 ? [json, `@${file}`] : [json]) {
        const args = refundArgs('order-1002', 700, `unkeepable-${i}`);
        if (flag === '--params') args[args.indexOf('--params') + 1] = value;
        else args.push(flag, value);
        const r = await ecp(...args);
        expect(r.code, `${json}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(reason);
      }
    }
    expect((await ecp('show', attemptIdFor('refund-bot', 'unkeepable-0'))).code).toBe(4); // nothing started
  });

  it('`ecp show` flags a parameter that mixes scripts in one word', async () => {
    const args = refundArgs('order-1002', 300, 'lookalike-1');
    args[args.indexOf('--params') + 1] = JSON.stringify({ orderId: 'order-1002', amount: 300, reason: 'refund to \u0440\u0430ypal' });
    const attemptId = JSON.parse((await ecp(...args, '--json')).stdout).attemptId as string;
    const shown = await ecp('show', attemptId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/parameters\.reason: the word "раypal" mixes Cyrillic and Latin letters/);
  });

  it('is idempotent per key and refuses the same key for another proposal (exit 5)', async () => {
    const first = await ecp(...refundArgs('order-1003', 6100, 'conflict-1'), '--json');
    expect(first.code, first.stderr).toBe(0);
    const again = await ecp(...refundArgs('order-1003', 6100, 'conflict-1'), '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ attemptId: JSON.parse(first.stdout).attemptId, created: false });
    expect(JSON.parse(first.stdout).created).toBe(true);

    const changed = await ecp(...refundArgs('order-1003', 6200, 'conflict-1'));
    expect(changed.code).toBe(5);
    expect(changed.stderr).toMatch(/^ecp: idempotency key "conflict-1" is already used/);
  });

  it('rejects with a required reason → REJECTED, nothing runs', async () => {
    const attemptId = await proposeRefund('order-1003', 8000, 'reject-1');
    await eventually('the attempt to await a decision', async () =>
      (await showJson(attemptId)).status === 'AWAITING_DECISION' ? true : undefined,
    );

    const noReason = await ecp('reject', attemptId, '--as', 'alice');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason/);

    const rejected = await ecp('reject', attemptId, '--as', 'alice', '--reason', 'already refunded by hand', '--json');
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ accepted: true, code: null });
    const record = await untilStatus(attemptId, 'REJECTED');
    expect(record.decisions.accepted[0]).toMatchObject({ human: 'alice', verdict: 'reject', reason: 'already refunded by hand' });
    expect(record.outcome).toBeNull();
    expect(refundsFor(attemptId)).toHaveLength(0);
  });

  it('honours a decision printed by `ecp approve --print` and sent with `temporal workflow signal`', async () => {
    const attemptId = await proposeRefund('order-1003', 6000, 'temporal-cli-1');
    await eventually('the attempt in `temporal workflow list`', async () => {
      const r = await temporal('workflow', 'list', '--query', 'EcpStatus="AWAITING_DECISION"');
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.includes(attemptId) ? true : undefined;
    });

    const printed = await ecp('approve', attemptId, '--as', 'alice', '--print');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.trim().split('\n')).toHaveLength(1);
    const decision = JSON.parse(printed.stdout) as { statement: { attemptId: string; human: string; verdict: string } };
    expect(decision.statement).toMatchObject({ attemptId, human: 'alice', verdict: 'approve' });
    expect((await showJson(attemptId)).status).toBe('AWAITING_DECISION'); // --print sends nothing

    const sent = await temporal('workflow', 'signal', '--workflow-id', attemptId, '--name', 'decision', '--input', printed.stdout.trim());
    expect(sent.code, sent.stderr).toBe(0);
    const record = await untilStatus(attemptId, 'SUCCEEDED');
    expect(record.decisions.accepted.map((d) => [d.human, d.via])).toEqual([['alice', 'signal']]);
    expect(refundsFor(attemptId)).toHaveLength(1);
  });

  it('`policy check` lists a valid bundle and names file and line of a broken one (exit 2)', async () => {
    const whole = await ecp('policy', 'check');
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain('refunds.large-needs-finance');
    expect(whole.stdout).toMatch(/1 of finance within 1h/);
    expect(whole.stdout).toMatch(/Configuration OK/);

    const dir = join(scratch, 'policies');
    cpSync(join(ROOT, 'examples', 'demo', 'policies'), dir, { recursive: true });
    const ok = await ecp('policy', 'check', dir, '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { policies: Array<{ id: string }> }).policies.map((p) => p.id)).toContain('deploys.change-freeze');

    writeFileSync(join(dir, 'broken.cedar'), '// a broken policy\n@id("broken")\npermit (principal, action, resource)\nwhen { 1 + };\n');
    const broken = await ecp('policy', 'check', dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.cedar:4:\d+: /);
  });

  it('`keys new` writes a private key and prints its public key and directory snippet', async () => {
    const keysDir = join(scratch, 'keys');
    const created = await ecp('--keys-dir', keysDir, 'keys', 'new', 'frank');
    expect(created.code, created.stderr).toBe(0);
    const file = join(keysDir, 'frank.key');
    expect(existsSync(file)).toBe(true);
    const publicKey = publicKeyHex(loadHumanKey(keysDir, 'frank'));
    expect(created.stdout).toContain(`Public key: ${publicKey}`);
    expect(created.stdout).toContain(`publicKeys: [${publicKey}]`);

    const again = await ecp('--keys-dir', keysDir, 'keys', 'new', 'frank');
    expect(again.code).toBe(5);
    const forced = await ecp('--keys-dir', keysDir, 'keys', 'new', 'frank', '--force', '--json');
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).publicKey).toBe(publicKeyHex(loadHumanKey(keysDir, 'frank')));
    expect(JSON.parse(forced.stdout).publicKey).not.toBe(publicKey);
  });

  it('exits 4 for an unknown attempt and 6 when Temporal cannot be reached', async () => {
    const missing = await ecp('show', 'att-00000000000000000000000000000000');
    expect(missing.code).toBe(4);
    const port = await freePort();
    const unreachable = await run(process.execPath, [ECP_BIN, 'list'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(unreachable.code).toBe(6);
    expect(unreachable.stderr).toMatch(/^ecp: cannot reach Temporal/);
  });
});
