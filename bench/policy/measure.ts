import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cedar from '../../policy/cedarEngine';
import { loadPolicyBundle } from '../../policy/bundle';
import { evaluateAdvice, type AdviceRequest } from '../../policy/evaluate';
import { sliceIndexFor } from '../../policy/slices';
import { summarize, type Summary } from '../stats';
import { benchActions, benchRequests, writeBenchPolicySet } from './generate';

export interface PolicyFigures {
  policies: number;
  actions: number;
  /** Policies Cedar evaluates per request with slicing (mean over the requests). */
  meanSliceSize: number;
  slicedUs: Summary;
  unslicedUs: Summary;
  verdicts: Record<string, number>;
}

export interface PolicyProfile {
  /** statefulIsAuthorized with an empty policy set and the real request: the fixed cost per call. */
  emptySetUs: Summary;
  /** Same, with no entities and an empty context: the bare wasm call. */
  bareCallUs: Summary;
  /** Same as emptySet but without the context: what converting the entities costs. */
  entitiesOnlyUs: Summary;
}

function timeUs(iterations: number, fn: (i: number) => unknown): Summary {
  for (let i = 0; i < Math.min(500, iterations); i++) fn(i);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return summarize(samples);
}

/** Advice latency in-process, µs, sliced and unsliced, for each bundle size in `counts`. */
export function measurePolicyAdvice(
  counts: number[],
  iterations: number,
): { figures: PolicyFigures[]; profile: PolicyProfile; description: string } {
  const requests = benchRequests(1000);
  const figures: PolicyFigures[] = [];
  const root = mkdtempSync(join(tmpdir(), 'ecp-bench-policy-'));
  try {
    for (const count of counts) {
      const bundle = loadPolicyBundle(writeBenchPolicySet(join(root, String(count)), count), { defaultDeadlineSeconds: 86_400 });
      const index = sliceIndexFor(bundle);
      const verdicts: Record<string, number> = {};
      let sliceTotal = 0;
      for (const r of requests) {
        const advice = evaluateAdvice(bundle, r);
        verdicts[advice.verdict] = (verdicts[advice.verdict] ?? 0) + 1;
        const ids = index.byAction.get(`Action::${r.actionType}`) ?? index.anyAction;
        sliceTotal += ids.filter((id) => {
          const p = index.scopes[id]!.principal;
          return p.kind === 'all' || p.kind === 'is' || ('key' in p && p.key === `Agent::${r.agent.id}`);
        }).length;
      }
      const at = (i: number): AdviceRequest => requests[i % requests.length]!;
      figures.push({
        policies: Object.keys(bundle.policies).length,
        actions: benchActions().length,
        meanSliceSize: sliceTotal / requests.length,
        slicedUs: timeUs(iterations, (i) => evaluateAdvice(bundle, at(i))),
        unslicedUs: timeUs(iterations, (i) => evaluateAdvice(bundle, at(i), { sliced: false })),
        verdicts,
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const r = requests[0]!;
  cedar.preparsePolicySet('ecp-bench-empty', { staticPolicies: {} });
  const call: cedar.StatefulAuthorizationCall = {
    principal: { type: 'Agent', id: r.agent.id },
    action: { type: 'Action', id: r.actionType },
    resource: { type: 'Resource', id: r.resource },
    context: { parameters: r.parameters, claims: r.claims, facts: r.facts } as cedar.Context,
    preparsedPolicySetId: 'ecp-bench-empty',
    entities: [
      {
        uid: { type: 'Agent', id: r.agent.id },
        attrs: { owner: r.agent.owner, scopes: r.agent.scopes as cedar.CedarValueJson },
        parents: [],
      },
      { uid: { type: 'Resource', id: r.resource }, attrs: {}, parents: [] },
    ],
  };
  const profile: PolicyProfile = {
    emptySetUs: timeUs(iterations, () => cedar.statefulIsAuthorized(call)),
    bareCallUs: timeUs(iterations, () => cedar.statefulIsAuthorized({ ...call, context: {}, entities: [] })),
    entitiesOnlyUs: timeUs(iterations, () => cedar.statefulIsAuthorized({ ...call, context: {} })),
  };
  return {
    figures,
    profile,
    description:
      'generated bundle (bench/policy/generate.ts): 48 action types in 8 domains, 240 agents, 24 approver groups; ≈1% unscoped ' +
      'global policies, the rest per action: threshold permits, approval permits, fact forbids, per-agent permits/forbids, ' +
      'action-group permits. 1,000 deterministic requests cycled.',
  };
}
