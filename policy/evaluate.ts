import * as cedar from './cedarEngine';
import type { Advice } from '../common/advice';
import type { JsonValue } from '../common/record';
import type { PolicyBundle } from './bundle';
import { convertsCleanly, pickAttrs, pickContext } from './reads';
import { sliceIndexFor, slicePlan } from './slices';

export interface AdviceRequest {
  agent: { id: string; owner: string; scopes: string[] };
  actionType: string;
  resource: string;
  parameters: Record<string, JsonValue>;
  claims: Record<string, JsonValue>;
  facts: Record<string, JsonValue>;
}

const deny = (bundle: PolicyBundle, reasons: string[], errors: string[] = [], policyIds: string[] = []): Advice => ({
  verdict: 'deny',
  requirements: [],
  policyIds,
  reasons,
  errors,
  bundleVersion: bundle.version,
});

/** The principal is sent to Cedar without parents, so it has no ancestors for slicing to consider. */
const NO_ANCESTORS: ReadonlySet<string> = new Set();

export interface EvaluateOptions {
  /**
   * Evaluate only the policies whose scope can match the request (policy/slices.ts) — the default. `false` evaluates
   * the whole bundle; the decision is the same either way (test/unit/policy-slicing.test.ts proves it).
   */
  sliced?: boolean;
}

/**
 * Cedar → advice. Semantics (each is a unit-tested rule):
 * - default deny: nothing permits → deny;
 * - forbid wins: any satisfied forbid → deny (its ids are the reasons);
 * - a satisfied permit carrying `@requires_approval` → require_approval; several → all requirements apply;
 * - any evaluation error in any policy, or an engine failure → deny, never allow.
 * Cedar JSON's reserved keys (`__entity`, `__extn`) in agent-supplied data are refused, so a proposal cannot smuggle
 * entity references into the context.
 */
export function evaluateAdvice(bundle: PolicyBundle, request: AdviceRequest, options: EvaluateOptions = {}): Advice {
  const reserved = findReservedKey({ parameters: request.parameters, claims: request.claims, facts: request.facts });
  if (reserved) return deny(bundle, [`${reserved} uses a key reserved by Cedar's JSON format`]);

  let answer: cedar.AuthorizationAnswer;
  try {
    const principal = { type: 'Agent', id: request.agent.id };
    const action = { type: 'Action', id: request.actionType };
    const resource = { type: 'Resource', id: request.resource };
    let attrs: Record<string, unknown> = { owner: request.agent.owner, scopes: request.agent.scopes };
    let context: Record<string, unknown> = { parameters: request.parameters, claims: request.claims, facts: request.facts };
    let setId = bundle.version;
    let sendPrincipal = true;
    let sendResource = true;
    if (options.sliced !== false) {
      const plan = slicePlan(sliceIndexFor(bundle), bundle.version, bundle.policies, {
        principal,
        action,
        principalAncestors: NO_ANCESTORS,
      });
      setId = plan.setId;
      // Send only what the slice's policies can read — unless converting the dropped part could fail (policy/reads.ts).
      if (convertsCleanly(context) && convertsCleanly(attrs) && convertsCleanly([principal.id, resource.id])) {
        context = pickContext(context, plan.reads.context);
        attrs = pickAttrs(attrs, plan.reads.attrs);
        sendPrincipal = plan.reads.principal;
        sendResource = plan.reads.resource;
      }
    }
    const entities: cedar.EntityJson[] = [];
    if (sendPrincipal) entities.push({ uid: principal, attrs: attrs as Record<string, cedar.CedarValueJson>, parents: [] });
    if (sendResource) entities.push({ uid: resource, attrs: {}, parents: [] });
    answer = cedar.statefulIsAuthorized({
      principal,
      action,
      resource,
      context: context as cedar.Context,
      preparsedPolicySetId: setId,
      entities,
    });
  } catch (err) {
    return deny(bundle, ['policy engine error'], [(err as Error).message]);
  }
  const advice = adviceFromAnswer(bundle, answer);
  // Overridable forbids (`@override_by`): when every satisfied forbid is overridable, what the rest of the bundle
  // says decides — a deny there (another forbid, default deny) stays a hard deny; otherwise the attempt waits for an
  // override of each of these forbids (plus any approvals the rest requires). Rare, so evaluated unsliced.
  const forbids = advice.verdict === 'deny' && advice.errors.length === 0 ? advice.policyIds : [];
  if (forbids.length === 0 || !forbids.every((id) => bundle.overridable[id])) return advice;
  let rest: Advice;
  try {
    const others = Object.fromEntries(Object.entries(bundle.policies).filter(([id]) => !forbids.includes(id)));
    rest = adviceFromAnswer(
      bundle,
      cedar.isAuthorized({
        principal: { type: 'Agent', id: request.agent.id },
        action: { type: 'Action', id: request.actionType },
        resource: { type: 'Resource', id: request.resource },
        context: { parameters: request.parameters, claims: request.claims, facts: request.facts } as cedar.Context,
        policies: { staticPolicies: others },
        entities: [
          {
            uid: { type: 'Agent', id: request.agent.id },
            attrs: { owner: request.agent.owner, scopes: request.agent.scopes } as Record<string, cedar.CedarValueJson>,
            parents: [],
          },
          { uid: { type: 'Resource', id: request.resource }, attrs: {}, parents: [] },
        ],
      }),
    );
  } catch (err) {
    return deny(bundle, ['policy engine error'], [(err as Error).message]);
  }
  if (rest.verdict === 'deny') return advice;
  const overrides = forbids.map((id) => bundle.overridable[id]!);
  return {
    verdict: 'require_approval',
    requirements: [...rest.requirements, ...overrides],
    policyIds: [...new Set([...rest.policyIds, ...forbids])].sort(),
    reasons: [
      ...rest.reasons.filter((r) => !r.startsWith('permitted by ')),
      ...overrides.map((r) => `forbidden by ${r.policyId}; overridable by ${r.overrideBy!.join(' or ')}`),
    ],
    errors: [],
    bundleVersion: bundle.version,
  };
}

function adviceFromAnswer(bundle: PolicyBundle, answer: cedar.AuthorizationAnswer): Advice {
  if (answer.type === 'failure') {
    return deny(
      bundle,
      ['policy engine could not evaluate the request'],
      answer.errors.map((e) => e.message),
    );
  }
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0) {
    const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).sort();
    return deny(bundle, ['a policy failed to evaluate; failing closed'], errors);
  }
  const policyIds = [...diagnostics.reason].sort();
  if (decision === 'deny') {
    return policyIds.length > 0
      ? deny(
          bundle,
          policyIds.map((id) => `forbidden by ${id}`),
          [],
          policyIds,
        )
      : deny(bundle, ['no policy permits this action (default deny)']);
  }
  const requirements = policyIds.flatMap((id) => (bundle.requirements[id] ? [bundle.requirements[id]] : []));
  if (requirements.length > 0) {
    return {
      verdict: 'require_approval',
      requirements,
      policyIds,
      reasons: requirements.map(
        (r) =>
          `${r.policyId} requires ${r.quorum} approval(s) from ${r.groups.join(' or ')}${r.overrideBy ? ` (or an override by ${r.overrideBy.join(' or ')})` : ''}`,
      ),
      errors: [],
      bundleVersion: bundle.version,
    };
  }
  return {
    verdict: 'allow',
    requirements: [],
    policyIds,
    reasons: policyIds.map((id) => `permitted by ${id}`),
    errors: [],
    bundleVersion: bundle.version,
  };
}

function findReservedKey(value: unknown, path = 'context'): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findReservedKey(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '__entity' || key === '__extn' || key === '__expr') return `${path}.${key}`;
      const found = findReservedKey(child, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}
