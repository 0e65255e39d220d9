import type { Advice } from '../common/advice';
import type { Proposal } from '../common/proposal';
import type { AttemptContext } from '../common/record';
import type { PolicyBundle } from './bundle';
import { evaluateAdvice } from './evaluate';

/**
 * The one rule from an attempt's proposal and pinned context to its advice. The plane's policy activity
 * (activities/policy.ts) and the auditor's re-derivation (audit/pack/verify.ts, audit/backtest.ts) both call it, so an
 * auditor runs the very rule the plane ran.
 */

/** Everything `adviceFor` reads from a proposal and a context: equal inputs (as canonical JSON) give equal advice. */
export interface AdviceInputs {
  /** Problems found while gathering context, and missing facts: any of them denies without consulting Cedar. */
  reasons: string[];
  agent: AttemptContext['directory']['agent'];
  actionType: string;
  resource: string;
  parameters: Proposal['parameters'];
  claims: Proposal['claims'];
  facts: AttemptContext['facts'];
}

/** The inputs `adviceFromInputs` reads, taken from a proposal and the context pinned for it. */
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
 * Advice for these inputs: problems, missing facts or an agent missing from the directory deny without consulting
 * Cedar; otherwise Cedar decides (policy/evaluate.ts). The advice names the bundle's version.
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

/** The advice for this proposal in this pinned context; see `adviceFromInputs`. */
export function adviceFor(bundle: PolicyBundle, proposal: Proposal, context: AttemptContext): Advice {
  return adviceFromInputs(bundle, adviceInputs(proposal, context));
}
