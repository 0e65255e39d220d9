import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratchDir } from '../helpers/scratchDir';
import {
  parseSummaryTemplate,
  renderSummary,
  SUMMARY_MAX_LENGTH,
  SUMMARY_MAX_VALUE_LENGTH,
  SummaryTemplateError,
} from '../../common/summary';
import { proposalSummary } from '../../client/summaries';
import { loadPlaneConfig } from '../../config/load';
import { configRefusal } from '../helpers/configRefusal';

const refund = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1003',
  parameters: { orderId: 'order-1003', amount: 7000, reason: 'damaged' },
};

describe('summary templates (common/summary.ts)', () => {
  it('renders parameters, proposal fields and helpers', () => {
    expect(renderSummary('Refund {amount|cents} EUR on {orderId}', refund)).toBe('Refund 70.00 EUR on order-1003');
    expect(renderSummary('{parameters.orderId} by {agent} ({actionType}, {resource})', refund)).toBe(
      'order-1003 by refund-bot (payments.refund, order-1003)',
    );
    expect(renderSummary('{reason|upper}/{reason|upper|lower}', refund)).toBe('DAMAGED/damaged');
    expect(renderSummary('{{literal}} {amount}', refund)).toBe('{literal} 7000');
    expect(renderSummary('{customer.name}', { parameters: { customer: { name: 'Ada' } } })).toBe('Ada');
  });

  it('formats cents with integer arithmetic, and leaves values a helper does not fit as written', () => {
    const cents = (amount: unknown) => renderSummary('{amount|cents}', { parameters: { amount } });
    expect([cents(7000), cents(1005), cents(5), cents(0), cents(-250), cents(123456789012)]).toEqual([
      '70.00',
      '10.05',
      '0.05',
      '0.00',
      '-2.50',
      '1234567890.12',
    ]);
    expect([cents(12.5), cents('70'), cents(true)]).toEqual(['12.5', '70', 'true']);
  });

  it('shows missing, null and empty values as "—", and other values as compact JSON', () => {
    expect(renderSummary('Refund {amount|cents} on {orderId}', { parameters: {} })).toBe('Refund — on —');
    expect(renderSummary('{a} {b} {c}', { parameters: { a: null, b: '', c: [1, { x: 2 }] } })).toBe('— — [1,{"x":2}]');
    expect(renderSummary('{resource}', {})).toBe('—');
    // Own keys only: nothing inherited is reachable.
    expect(renderSummary('{constructor} {toString} {a.length}', { parameters: { a: 'abc' } })).toBe('— — —');
  });

  it('is null without a template', () => {
    expect(renderSummary(undefined, refund)).toBeNull();
    expect(renderSummary(null, refund)).toBeNull();
  });

  it('is one line of plain text: no controls, no bidi overrides, no terminal escapes', () => {
    const hostile = { parameters: { orderId: 'order\n1003\u001b[31m red\u001b[0m \u202eevil\u2066 \u200bx\tz' } };
    const out = renderSummary('On {orderId}', hostile)!;
    expect(out).toBe('On order 1003[31m red[0m evil x z');
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b]/);
    // Markup is just text (the console sets textContent); it is not interpreted or rewritten.
    expect(renderSummary('{orderId}', { parameters: { orderId: '<b>x</b>' } })).toBe('<b>x</b>');
  });

  it('caps each value and the whole line, never splitting a character', () => {
    const long = renderSummary('Refund {reason}', { parameters: { reason: 'x'.repeat(500) } })!;
    expect(long).toBe(`Refund ${'x'.repeat(SUMMARY_MAX_VALUE_LENGTH - 1)}…`);
    const many = renderSummary('{a} {a} {a} {a} {a}', { parameters: { a: '😀'.repeat(100) } })!;
    expect(Array.from(many)).toHaveLength(SUMMARY_MAX_LENGTH);
    expect(many.endsWith('…')).toBe(true);
    expect(many).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/); // no lone high surrogate
  });

  it('refuses bad syntax and unknown helpers with a reason', () => {
    const bad = (t: string) => {
      try {
        parseSummaryTemplate(t);
      } catch (err) {
        expect(err).toBeInstanceOf(SummaryTemplateError);
        return (err as Error).message;
      }
      throw new Error(`expected "${t}" to be refused`);
    };
    expect(bad('Refund {amount')).toMatch(/"\{" at position 8 that is never closed/);
    expect(bad('Refund }')).toMatch(/"\}" at position 8 that closes nothing/);
    expect(bad('{}')).toMatch(/empty placeholder/);
    expect(bad('{amount|euros}')).toMatch(/unknown helper "euros" \(known: cents, upper, lower\)/);
    expect(bad('{a b}')).toMatch(/not a field name/);
    expect(bad('{parameters}')).toMatch(/must name a parameter/);
    expect(bad('{resource.id}')).toMatch(/"resource" is a text field/);
    // The renderer fails closed to "no summary" for an unvalidated template.
    expect(renderSummary('{amount|euros}', refund)).toBeNull();
  });
});

function configWith(replace: (types: string) => string): string {
  const dir = scratchDir('ecp-summary');
  cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'action-types.yaml'), replace(readFileSync('examples/demo/action-types.yaml', 'utf8')));
  const key = 'ab'.repeat(32);
  writeFileSync(
    join(dir, 'directory.yaml'),
    `agents:\n  refund-bot: { owner: carol, scopes: [payments:refund] }\nhumans:\n  alice: { groups: [finance], publicKeys: [${key}] }\n  carol: { groups: [support], publicKeys: [${key}] }\ngroups: { finance: {}, support: {}, sre: {} }\n`,
  );
  writeFileSync(join(dir, 'ecp.yaml'), 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n');
  return join(dir, 'ecp.yaml');
}

const refusal = configRefusal;

describe('summary templates in the action types config', () => {
  const demoSummary = 'summary: Refund {amount|cents} EUR on {orderId}';

  it('the demo templates render from the loaded configuration', () => {
    const config = loadPlaneConfig(configWith((t) => t));
    expect(proposalSummary(config, refund)).toBe('Refund 70.00 EUR on order-1003');
    expect(
      proposalSummary(config, {
        agent: 'deploy-bot',
        actionType: 'deploys.release',
        resource: 'svc',
        parameters: { service: 'checkout', version: 'v1.2.3', environment: 'production' },
      }),
    ).toBe('Release checkout v1.2.3 to production');
    expect(proposalSummary(config, { ...refund, actionType: 'no.such.type' })).toBeNull();
  });

  it('an unknown placeholder is a config error naming file, line and field', () => {
    const message = refusal(configWith((t) => t.replace(demoSummary, 'summary: Refund {amont|cents} EUR on {orderId}')));
    expect(message).toMatch(/action-types\.yaml:\d+: field "payments\.refund\.summary" names unknown placeholder "\{amont\|cents\}"/);
    expect(message).toMatch(/declared: orderId, amount, reason/);
    expect(refusal(configWith((t) => t.replace(demoSummary, 'summary: Refund {parameters.amount.value}')))).toMatch(
      /"parameters\.amount\.value" is not declared/,
    );
  });

  it('bad syntax and unknown helpers are config errors naming file, line and field', () => {
    expect(refusal(configWith((t) => t.replace(demoSummary, 'summary: "Refund {amount|euros}"')))).toMatch(
      /action-types\.yaml:\d+: field "payments\.refund\.summary" placeholder "\{amount\|euros\}" uses unknown helper "euros"/,
    );
    expect(refusal(configWith((t) => t.replace(demoSummary, 'summary: "Refund {amount"')))).toMatch(
      /field "payments\.refund\.summary" has a "\{" at position 8 that is never closed/,
    );
  });

  it('editing only the summary does not change the action type version an approval pinned', () => {
    const before = loadPlaneConfig(configWith((t) => t));
    const after = loadPlaneConfig(configWith((t) => t.replace(demoSummary, 'summary: Refund of {amount|cents} on {orderId}')));
    expect(after.actionTypes['payments.refund']?.summary).toBe('Refund of {amount|cents} on {orderId}');
    expect(after.actionTypeVersions).toEqual(before.actionTypeVersions);
    const changed = loadPlaneConfig(configWith((t) => t.replace('timeout: 15s', 'timeout: 16s')));
    expect(changed.actionTypeVersions['payments.refund']).not.toBe(before.actionTypeVersions['payments.refund']);
  });
});
