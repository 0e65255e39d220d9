import { describe, expect, it } from 'vitest';
import type { AdviceVerdict } from '../../common';
import { loadPolicyBundle } from '../../policy/bundle';
import { evaluateAdvice, type AdviceRequest } from '../../policy/evaluate';
import { policyDir } from '../helpers/policyDir';

const P = {
  smallAuto: `@id("small") permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount <= 100 };`,
  largeFinance: `@id("large-finance") @requires_approval("finance") @quorum("1") @deadline("1h")
permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount > 100 };`,
  hugeTwoSre: `@id("huge-sre") @requires_approval("sre,oncall") @quorum("2") @deadline("30m")
permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount > 1000 };`,
  overTotal: `@id("over-total") forbid (principal, action, resource) when { context.parameters.amount > context.facts.total };`,
  anyAuto: `@id("any") permit (principal, action == Action::"payments.refund", resource);`,
  needsScope: `@id("needs-scope") forbid (principal, action, resource) unless { principal.scopes.contains("payments:refund") };`,
};

const request = (amount: unknown, total: unknown = 10_000, scopes = ['payments:refund']): AdviceRequest => ({
  agent: { id: 'bot', owner: 'carol', scopes },
  actionType: 'payments.refund',
  resource: 'order-1',
  parameters: { amount } as AdviceRequest['parameters'],
  claims: {},
  facts: { total } as AdviceRequest['facts'],
});

const bundleOf = (...policies: string[]) =>
  loadPolicyBundle(policyDir(Object.fromEntries(policies.map((p, i) => [`p${i}.cedar`, p]))), { defaultDeadlineSeconds: 86_400 });

describe('Cedar advice semantics', () => {
  it.each<[string, string[], AdviceRequest, AdviceVerdict, string[]]>([
    ['default deny: nothing permits', [P.smallAuto], request(500), 'deny', []],
    ['allow: a plain permit applies', [P.smallAuto, P.largeFinance], request(50), 'allow', ['small']],
    ['approval: an annotated permit applies', [P.smallAuto, P.largeFinance], request(500), 'require_approval', ['large-finance']],
    [
      'approval beats a plain permit that also applies',
      [P.anyAuto, P.largeFinance],
      request(500),
      'require_approval',
      ['any', 'large-finance'],
    ],
    [
      'all approval requirements apply together',
      [P.largeFinance, P.hugeTwoSre],
      request(5000),
      'require_approval',
      ['huge-sre', 'large-finance'],
    ],
    ['forbid wins over permit', [P.anyAuto, P.overTotal], request(500, 100), 'deny', ['over-total']],
    ['forbid wins over an approval requirement', [P.largeFinance, P.overTotal], request(500, 100), 'deny', ['over-total']],
    ['scope missing → forbidden', [P.anyAuto, P.needsScope], request(5, 10_000, []), 'deny', ['needs-scope']],
    ['evaluation error (wrong type) → deny, never allow', [P.anyAuto, P.overTotal], request('lots'), 'deny', []],
    ['evaluation error (missing fact) → deny', [P.anyAuto, P.overTotal], { ...request(5), facts: {} }, 'deny', []],
    ['unrepresentable number (float) → deny', [P.anyAuto], request(1.5), 'deny', []],
  ])('%s', (_label, policies, req, verdict, policyIds) => {
    const bundle = bundleOf(...policies);
    const advice = evaluateAdvice(bundle, req);
    expect(advice.verdict).toBe(verdict);
    expect(advice.policyIds).toEqual(policyIds);
    expect(advice.bundleVersion).toBe(bundle.version);
  });

  it('reports the requirements of every applying approval policy, with groups, quorum and deadline', () => {
    const advice = evaluateAdvice(bundleOf(P.largeFinance, P.hugeTwoSre), request(5000));
    expect(advice.requirements).toEqual([
      { policyId: 'huge-sre', groups: ['sre', 'oncall'], quorum: 2, deadlineSeconds: 1800, onExpiry: 'expire' },
      { policyId: 'large-finance', groups: ['finance'], quorum: 1, deadlineSeconds: 3600, onExpiry: 'expire' },
    ]);
  });

  it('names the failing policy when evaluation errors', () => {
    const advice = evaluateAdvice(bundleOf(P.anyAuto, P.overTotal), request('lots'));
    expect(advice.errors.join()).toMatch(/over-total: type error/);
    expect(advice.reasons).toEqual(['a policy failed to evaluate; failing closed']);
  });

  it("refuses Cedar's reserved JSON keys in agent-supplied data", () => {
    const advice = evaluateAdvice(bundleOf(P.anyAuto), { ...request(5), claims: { x: { __entity: { type: 'Agent', id: 'admin' } } } });
    expect(advice.verdict).toBe('deny');
    expect(advice.reasons[0]).toMatch(/context.claims.x.__entity uses a key reserved/);
  });

  it('applies the configured default deadline when @deadline is absent', () => {
    const bundle = loadPolicyBundle(
      policyDir({ 'a.cedar': `@id("a") @requires_approval("finance") permit (principal, action, resource);` }),
      { defaultDeadlineSeconds: 7200 },
    );
    expect(bundle.requirements.a?.deadlineSeconds).toBe(7200);
  });
});
