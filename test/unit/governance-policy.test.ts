/**
 * Governance annotations (docs/governance.md): how overridable forbids, overrides of requirements, ratification,
 * escalation chains and reminders are written, what advice they give, and the clear errors bad annotations get.
 */
import { describe, expect, it } from 'vitest';
import { widenRequirements } from '../../common';
import { loadPolicyBundle } from '../../policy/bundle';
import { evaluateAdvice, type AdviceRequest } from '../../policy/evaluate';
import { policyDir } from '../helpers/policyDir';

const bundleOf = (...policies: string[]) =>
  loadPolicyBundle(policyDir(Object.fromEntries(policies.map((p, i) => [`p${i}.cedar`, p]))), { defaultDeadlineSeconds: 3_600 });

const request = (amount: number, total = 10_000): AdviceRequest => ({
  agent: { id: 'bot', owner: 'carol', scopes: ['payments:refund'] },
  actionType: 'payments.refund',
  resource: 'order-1',
  parameters: { amount },
  claims: {},
  facts: { total },
});

const P = {
  any: `@id("any") permit (principal, action == Action::"payments.refund", resource);`,
  small: `@id("small") permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount <= 100 };`,
  finance: `@id("finance") @requires_approval("finance") @deadline("4h") @escalate_after("30m,2h") @escalate_to("finance-leads,cfo") @remind_before("15m")
permit (principal, action == Action::"payments.refund", resource) when { context.parameters.amount > 500 };`,
  overTotal: `@id("over-total") forbid (principal, action, resource) when { context.parameters.amount > context.facts.total };`,
  weekend: `@id("weekend") @override_by("incident-command") @ratify_by("sre") @ratify_within("24h") @deadline("30m")
forbid (principal, action, resource) when { context.parameters.amount > 50 };`,
};

describe('overridable forbids in advice', () => {
  it('an overridable forbid that is the only obstacle gives require_approval with an override requirement', () => {
    const advice = evaluateAdvice(bundleOf(P.any, P.weekend), request(60));
    expect(advice.verdict).toBe('require_approval');
    expect(advice.requirements).toEqual([
      {
        policyId: 'weekend',
        kind: 'override',
        groups: [],
        quorum: 1,
        deadlineSeconds: 1_800,
        onExpiry: 'expire',
        overrideBy: ['incident-command'],
        ratify: { groups: ['sre'], withinSeconds: 86_400 },
      },
    ]);
    expect(advice.reasons).toEqual(['forbidden by weekend; overridable by incident-command']);
  });

  it('keeps the approvals the rest of the bundle requires, next to the override', () => {
    const advice = evaluateAdvice(bundleOf(P.any, P.finance, P.weekend), request(600));
    expect(advice.requirements.map((r) => r.policyId)).toEqual(['finance', 'weekend']);
  });

  it('stays a hard deny when a non-overridable forbid also applies, or nothing else permits', () => {
    const both = evaluateAdvice(bundleOf(P.any, P.weekend, P.overTotal), request(600, 100));
    expect(both).toMatchObject({ verdict: 'deny', reasons: ['forbidden by over-total', 'forbidden by weekend'] });
    const nothing = evaluateAdvice(bundleOf(P.small, P.weekend), request(200));
    expect(nothing).toMatchObject({ verdict: 'deny', reasons: ['forbidden by weekend'] });
  });

  it('pins the override, ratification and escalation groups as possible deciders', () => {
    expect(bundleOf(P.any, P.finance, P.weekend).approvalGroups).toEqual(['cfo', 'finance', 'finance-leads', 'incident-command', 'sre']);
  });
});

describe('escalation chains', () => {
  it('parse into steps and widen the eligible groups step by step', () => {
    const requirement = bundleOf(P.finance).requirements.finance!;
    expect(requirement).toMatchObject({
      escalations: [
        { afterSeconds: 1_800, groups: ['finance-leads'] },
        { afterSeconds: 7_200, groups: ['cfo'] },
      ],
      remindBeforeSeconds: [900],
    });
    expect(widenRequirements([requirement], [])[0]!.groups).toEqual(['finance']);
    expect(widenRequirements([requirement], [{ policyId: 'finance', step: 1 }])[0]).toMatchObject({
      groups: ['finance', 'finance-leads'],
      escalatedTo: ['finance-leads'],
    });
    expect(widenRequirements([requirement], [{ policyId: 'finance', step: 2 }])[0]!.groups).toEqual(['finance', 'finance-leads', 'cfo']);
  });
});

describe('bad annotations are refused, naming the annotation and the reason', () => {
  const permit = (annotations: string) => `@id("x") @requires_approval("finance") ${annotations} permit (principal, action, resource);`;
  it.each([
    [permit('@escalate_after("30m")'), '@escalate_after and @escalate_to go together'],
    [permit('@escalate_after("30m,2h") @escalate_to("leads")'), 'names 2 window(s) but @escalate_to 1 group(s)'],
    [permit('@escalate_after("2h,30m") @escalate_to("a,b")'), 'windows must increase'],
    [permit('@deadline("1h") @escalate_after("2h") @escalate_to("a")'), 'must end before the deadline (3600s)'],
    [permit('@remind_before("soon")'), '@remind_before: "soon" is not a duration'],
    [permit('@ratify_by("sre") @ratify_within("24h")'), '@ratify_by needs @override_by'],
    [permit('@override_by("ic") @ratify_by("sre")'), '@ratify_by and @ratify_within go together'],
    [permit('@override_by("")'), '@override_by must name at least one group'],
    ['@id("f") @ratify_by("sre") forbid (principal, action, resource);', '@ratify_by is only allowed on permit policies'],
    [
      '@id("f") @override_by("ic") @escalate_after("1m") @escalate_to("a") forbid (principal, action, resource);',
      '@escalate_after is not allowed on a forbid',
    ],
  ])('%s', (policy, message) => {
    expect(() => bundleOf(policy)).toThrow(message);
  });
});
