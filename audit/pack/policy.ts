import * as cedar from '../../policy/cedarEngine';
import type { Advice, ApprovalRequirement } from '../../common/advice';
import type { AttemptContext } from '../../common/record';
import type { Proposal } from '../../common/proposal';
import { requirementFromAnnotations } from '../../policy/annotations';
import type { PolicyBundle } from '../../policy/bundle';
import { evaluateAdvice } from '../../policy/evaluate';
import type { PackPolicyBundle } from './schema';
import { fastDigestOf } from './verifyDigests';

/** The bundle version a pack's policy part hashes to (same formula as the plane's loader). */
export function policyPartVersion(part: PackPolicyBundle): string {
  return fastDigestOf({ schema: part.schemaText, policies: part.policies });
}

const prepared = new Map<string, PolicyBundle>();
const PREPARED_KEPT = 32;

/**
 * Rebuilds an evaluable bundle from a pack's policy texts (policy id → text), with the loader's rules: strict
 * validation against the schema, approval requirements from annotations. Throws naming the policy that fails.
 * Validation costs a few hundred milliseconds and most packs share a bundle, so recent results are kept (keyed by
 * the digest of the whole part — schema, every policy text, default deadline — recomputed here from the part itself,
 * never taken from the pack's claims, so a changed text never hits a stale entry).
 */
export function bundleFromPack(part: PackPolicyBundle): PolicyBundle {
  const key = fastDigestOf(part);
  const cached = prepared.get(key);
  if (cached) return cached;
  const bundle = buildBundle(part);
  if (prepared.size >= PREPARED_KEPT) prepared.delete(prepared.keys().next().value!);
  prepared.set(key, bundle);
  return bundle;
}

function buildBundle(part: PackPolicyBundle): PolicyBundle {
  const version = policyPartVersion(part);
  const effects: PolicyBundle['effects'] = {};
  const requirements: Record<string, ApprovalRequirement> = {};
  for (const [id, text] of Object.entries(part.policies)) {
    const json = cedar.policyToJson(text);
    if (json.type === 'failure') throw new Error(`policy "${id}" does not parse: ${json.errors.map((e) => e.message).join('; ')}`);
    effects[id] = json.json.effect;
    const { requirement, problems } = requirementFromAnnotations(id, json.json.effect, json.json.annotations ?? {}, part.defaultDeadlineSeconds);
    if (problems.length > 0) throw new Error(`policy "${id}": ${problems.join('; ')}`);
    if (requirement) requirements[id] = requirement;
  }
  const validation = cedar.validate({ schema: part.schemaText, policies: { staticPolicies: part.policies }, validationSettings: { mode: 'strict' } });
  if (validation.type === 'failure') throw new Error(`the schema is invalid: ${validation.errors.map((e) => e.message).join('; ')}`);
  if (validation.validationErrors.length > 0) {
    throw new Error(validation.validationErrors.map((e) => `policy "${e.policyId}": ${e.error.message}`).join('; '));
  }
  const prepared = cedar.preparsePolicySet(version, { staticPolicies: part.policies });
  if (prepared.type === 'failure') throw new Error(prepared.errors.map((e) => e.message).join('; '));
  return {
    dir: '(evidence pack)',
    version,
    schemaText: part.schemaText,
    policies: part.policies,
    effects,
    sources: Object.fromEntries(Object.keys(part.policies).map((id) => [id, `(pack) ${id}`])),
    requirements,
    approvalGroups: [...new Set(Object.values(requirements).flatMap((r) => r.groups))].sort(),
    actions: [],
    defaultDeadlineSeconds: part.defaultDeadlineSeconds,
  };
}

/** Everything `adviceFor` reads from a proposal and a context: equal inputs (as canonical JSON) give equal advice. */
export interface AdviceInputs {
  reasons: string[];
  agent: AttemptContext['directory']['agent'];
  actionType: string;
  resource: string;
  parameters: Proposal['parameters'];
  claims: Proposal['claims'];
  facts: AttemptContext['facts'];
}

export function adviceInputs(proposal: Proposal, context: AttemptContext): AdviceInputs {
  return {
    reasons: [...context.problems, ...(context.factsError ? [`verified facts unavailable: ${context.factsError}`] : [])],
    agent: context.directory.agent,
    actionType: proposal.actionType,
    resource: proposal.resource,
    parameters: proposal.parameters,
    claims: proposal.claims,
    facts: context.facts,
  };
}

/**
 * The advice the plane's policy activity gives for these inputs (same rules: problems or missing facts deny without
 * consulting Cedar), so an auditor can re-derive the recorded advice.
 */
export function adviceFromInputs(bundle: PolicyBundle, inputs: AdviceInputs): Advice {
  const { reasons, agent } = inputs;
  if (reasons.length > 0 || !agent) {
    return { verdict: 'deny', requirements: [], policyIds: [], reasons, errors: [], bundleVersion: bundle.version };
  }
  return evaluateAdvice(bundle, {
    agent: { id: agent.id, owner: agent.owner, scopes: agent.scopes },
    actionType: inputs.actionType,
    resource: inputs.resource,
    parameters: inputs.parameters,
    claims: inputs.claims,
    facts: inputs.facts,
  });
}

/** The advice the plane gives for this proposal in this pinned context; see `adviceFromInputs`. */
export function adviceFor(bundle: PolicyBundle, proposal: Proposal, context: AttemptContext): Advice {
  return adviceFromInputs(bundle, adviceInputs(proposal, context));
}
