import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { benchRequests, writeBenchPolicySet } from '../../bench/policy/generate';
import { loadPolicyBundle } from '../../policy/bundle';
import { evaluateAdvice, type AdviceRequest } from '../../policy/evaluate';
import { sliceIndexFor } from '../../policy/slices';

/**
 * Differential test for policy slicing: for random bundles (scoped and unscoped permits and forbids, approval
 * annotations, conditions that can fail at run time) and random requests (including wrong types, missing facts,
 * unrepresentable numbers, unknown actions and agents), the advice from the sliced evaluation deep-equals the advice
 * from evaluating the whole bundle.
 */

const ACTIONS = ['pay.refund', 'pay.payout', 'ops.deploy'];
const GROUP_ACTION = 'pay.all';
const AGENTS = ['a1', 'a2', 'a3', 'a4'];
const CONTEXT = `{ parameters: { amount: Long, region?: String }, claims: { note?: String }, facts: { total: Long, frozen: Bool } }`;
const SCHEMA = `entity Agent = { owner: String, scopes: Set<String> };
entity Resource;
action "${GROUP_ACTION}";
${ACTIONS.map((a) => `action "${a}" ${a.startsWith('pay.') ? `in ["${GROUP_ACTION}"] ` : ''}appliesTo { principal: [Agent], resource: [Resource], context: ${CONTEXT} };`).join('\n')}
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const act = (a: string) => `Action::"${a}"`;
const principalScope = fc.oneof(
  fc.constant('principal'),
  fc.constantFrom(...AGENTS).map((a) => `principal == Agent::"${a}"`),
  fc.constantFrom(...AGENTS).map((a) => `principal in Agent::"${a}"`),
  fc.constant('principal is Agent'),
  fc.constantFrom(...AGENTS).map((a) => `principal is Agent in Agent::"${a}"`),
);
const actionScope = fc.oneof(
  fc.constant('action'),
  fc.constantFrom(...ACTIONS).map((a) => `action == ${act(a)}`),
  fc.subarray(ACTIONS, { minLength: 1 }).map((as) => `action in [${as.map(act).join(', ')}]`),
  fc.constant(`action in ${act(GROUP_ACTION)}`),
);
const resourceScope = fc.constantFrom('resource', 'resource == Resource::"r1"', 'resource in Resource::"r1"', 'resource is Resource');
const condition = fc.constantFrom(
  '',
  'when { context.parameters.amount > 100 }',
  'when { context.parameters.amount <= context.facts.total }',
  'when { context.facts.frozen }',
  'unless { principal.scopes.contains("pay") }',
  'when { context.claims has note && context.claims.note == "x" }',
  'when { principal.owner == "carol" && context.parameters.amount < 0 }',
  // Reads of optional and whole records: the sliced evaluation sends Cedar only what its policies read.
  'when { context.parameters has region && context.parameters.region == "eu" }',
  'when { {c: context}.c.facts.frozen }',
  'unless { context.claims has note }',
  // Conditions reaching the entities through literals or the resource variable: those entities must then be sent.
  'when { resource == Resource::"r2" || principal in Agent::"a1" }',
  'when { Agent::"a2".owner == "dave" }',
  'when { resource has owner }',
  // Set reads: only `contains(<literal>)` lets the sliced evaluation send a subset of the agent's scopes.
  'when { principal.scopes.contains("ops") && principal.scopes.contains("x") }',
  'when { principal.scopes.containsAny(["ops", "y"]) }',
  'unless { principal.scopes == ["pay"] }',
);
const annotations = fc.constantFrom(
  '',
  '@requires_approval("finance")\n',
  '@requires_approval("sre,finance")\n@quorum("2")\n@deadline("2h")\n',
);
const policy = fc.record({
  effect: fc.constantFrom('permit', 'forbid'),
  principal: principalScope,
  action: actionScope,
  resource: resourceScope,
  condition,
  annotations,
});
type PolicySpec = typeof policy extends fc.Arbitrary<infer T> ? T : never;

function bundleOf(specs: PolicySpec[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-slicing-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'schema.cedarschema'), SCHEMA);
  const text = specs
    .map(
      (s, i) =>
        `@id("p${i}")\n${s.effect === 'permit' ? s.annotations : ''}${s.effect} (${s.principal}, ${s.action}, ${s.resource})\n${s.condition};`,
    )
    .join('\n\n');
  writeFileSync(join(dir, 'policies.cedar'), text);
  return loadPolicyBundle(dir, { defaultDeadlineSeconds: 3600 });
}

const amount = fc.oneof(fc.integer({ min: -10, max: 1000 }), fc.constant('lots'), fc.constant(1.5), fc.constant(null));
/** Keys no policy reads, with values Cedar may fail to convert: dropping them must not hide that failure. */
const extra = fc.dictionary(
  fc.constantFrom('region', 'note', 'frozen', 'x', '', 'nested'),
  fc.oneof(
    fc.constantFrom('eu', 'us', 3, true, null, 1.5, 2 ** 70, 'a\ud800', [], { deep: [1, 'x'] }, [null]),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  { maxKeys: 2 },
);
const withExtra = <T extends object>(base: fc.Arbitrary<T>) =>
  fc.tuple(base, fc.option(extra, { nil: undefined })).map(([b, e]) => ({ ...e, ...b }));
const request: fc.Arbitrary<AdviceRequest> = fc.record({
  agent: fc.record({
    id: fc.constantFrom(...AGENTS, 'stranger'),
    owner: fc.constantFrom('carol', 'dave'),
    scopes: fc.subarray(['pay', 'ops', 'x', 'y']),
  }),
  actionType: fc.constantFrom(...ACTIONS, GROUP_ACTION, 'unknown.action'),
  resource: fc.constantFrom('r1', 'r2'),
  parameters: withExtra(fc.record({ amount })) as fc.Arbitrary<AdviceRequest['parameters']>,
  claims: withExtra(fc.constantFrom({}, { note: 'x' }, { note: 7 })) as fc.Arbitrary<AdviceRequest['claims']>,
  facts: withExtra(
    fc.oneof(fc.record({ total: fc.integer({ min: 0, max: 1000 }), frozen: fc.boolean() }), fc.constant({})),
  ) as fc.Arbitrary<AdviceRequest['facts']>,
});

describe('policy slicing gives the same advice as evaluating the whole bundle', () => {
  it('random bundles × random requests', () => {
    fc.assert(
      fc.property(
        fc.array(policy, { minLength: 0, maxLength: 14 }),
        fc.array(request, { minLength: 1, maxLength: 12 }),
        (specs, requests) => {
          const bundle = bundleOf(specs);
          for (const r of requests) expect(evaluateAdvice(bundle, r)).toStrictEqual(evaluateAdvice(bundle, r, { sliced: false }));
        },
      ),
      { numRuns: 120 },
    );
  }, 180_000);

  it('entities and context keys are sent whenever a policy can reach them', () => {
    // Each bundle's slice for a2 reads the principal only through a literal, or the context only as a whole.
    const bundles = [
      'when { Agent::"a2".owner == "dave" }',
      'when { {c: context}.c.facts.frozen }',
      'when { context.parameters has region && context.parameters.region == "eu" }',
    ].map((condition) =>
      bundleOf([
        { effect: 'permit', principal: 'principal', action: 'action', resource: 'resource', condition, annotations: '' } as PolicySpec,
      ]),
    );
    const verdicts = new Set<string>();
    for (const bundle of bundles) {
      for (const owner of ['carol', 'dave']) {
        for (const facts of [{ total: 1, frozen: true }, {}]) {
          for (const parameters of [{ amount: 1 }, { amount: 1, region: 'eu' }, { amount: 1, region: null }]) {
            const r = {
              agent: { id: 'a2', owner, scopes: [] },
              actionType: 'pay.refund',
              resource: 'r1',
              parameters,
              claims: { x: 1 },
              facts,
            } as AdviceRequest;
            const sliced = evaluateAdvice(bundle, r);
            verdicts.add(sliced.verdict);
            expect(sliced).toStrictEqual(evaluateAdvice(bundle, r, { sliced: false }));
          }
        }
      }
    }
    expect([...verdicts].sort()).toEqual(['allow', 'deny']);
  });

  it('the demo policies', () => {
    const bundle = loadPolicyBundle(join(import.meta.dirname, '..', '..', 'examples', 'demo', 'policies'), {
      defaultDeadlineSeconds: 3600,
    });
    const demoRequest = fc.record({
      agent: fc.record({
        id: fc.constantFrom('refund-bot', 'deploy-bot'),
        owner: fc.constantFrom('carol', 'dave'),
        scopes: fc.subarray(['payments:refund', 'deploys:release']),
      }),
      actionType: fc.constantFrom('payments.refund', 'deploys.release', 'other'),
      resource: fc.constantFrom('order-1001', 'checkout'),
      parameters: fc.record({
        amount: fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.constant('x')),
        environment: fc.constantFrom('staging', 'production'),
      }),
      claims: fc.constant({}),
      facts: fc.oneof(
        fc.record({ total: fc.integer({ min: 0, max: 20_000 }), refunded: fc.integer({ min: 0, max: 5000 }), frozen: fc.boolean() }),
        fc.constant({}),
      ),
    }) as fc.Arbitrary<AdviceRequest>;
    const verdicts = new Set<string>();
    fc.assert(
      fc.property(demoRequest, (r) => {
        const sliced = evaluateAdvice(bundle, r);
        verdicts.add(sliced.verdict);
        expect(sliced).toStrictEqual(evaluateAdvice(bundle, r, { sliced: false }));
      }),
      { numRuns: 400 },
    );
    // The generator reaches every verdict, so the equality above is not vacuous.
    expect([...verdicts].sort()).toEqual(['allow', 'deny', 'require_approval']);
  }, 60_000);

  it('the generated 1,000-policy benchmark bundle, and slices are much smaller than the bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecp-slicing-bench-'));
    dirs.push(dir);
    const bundle = loadPolicyBundle(writeBenchPolicySet(dir, 1000), { defaultDeadlineSeconds: 3600 });
    expect(Object.keys(bundle.policies)).toHaveLength(1000);
    const verdicts = new Set<string>();
    for (const r of benchRequests(300)) {
      const sliced = evaluateAdvice(bundle, r);
      verdicts.add(sliced.verdict);
      expect(sliced).toStrictEqual(evaluateAdvice(bundle, r, { sliced: false }));
    }
    expect([...verdicts].sort()).toEqual(['allow', 'deny', 'require_approval']);
    const index = sliceIndexFor(bundle);
    for (const ids of index.byAction.values()) expect(ids.length).toBeLessThan(60);
  }, 180_000);
});
