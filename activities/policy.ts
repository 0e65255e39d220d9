import type { Advice, AttemptContext, Proposal } from '../common';
import type { PlaneRuntime } from '../config/runtime';
import { evaluateAdvice } from '../policy/evaluate';

export interface EvaluatePolicyInput {
  proposal: Proposal;
  context: AttemptContext;
}

export function createPolicyActivities(runtime: PlaneRuntime) {
  return {
    /**
     * Advice for a proposal in a captured context. Pure over its inputs and the loaded bundle, so retries are safe.
     * Problems found while gathering context, or missing facts, deny without consulting Cedar. If the bundle was
     * reloaded since the context was captured, the current bundle decides and its version is in the advice.
     */
    async evaluatePolicy({ proposal, context }: EvaluatePolicyInput): Promise<Advice> {
      const bundle = runtime.config.bundle;
      const reasons = [...context.problems, ...(context.factsError ? [`verified facts unavailable: ${context.factsError}`] : [])];
      const agent = context.directory.agent;
      if (reasons.length > 0 || !agent) {
        return { verdict: 'deny', requirements: [], policyIds: [], reasons, errors: [], bundleVersion: bundle.version };
      }
      return evaluateAdvice(bundle, {
        agent: { id: agent.id, owner: agent.owner, scopes: agent.scopes },
        actionType: proposal.actionType,
        resource: proposal.resource,
        parameters: proposal.parameters,
        claims: proposal.claims,
        facts: context.facts,
      });
    },
  };
}
