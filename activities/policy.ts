import type { Advice, AttemptContext, Proposal } from '../common';
import type { PlaneRuntime } from '../config/runtime';
import { adviceFor } from '../policy/attemptAdvice';

export interface EvaluatePolicyInput {
  proposal: Proposal;
  context: AttemptContext;
}

export function createPolicyActivities(runtime: PlaneRuntime) {
  return {
    /**
     * Advice for a proposal in a captured context (`adviceFor`, the rule an auditor re-runs). Pure over its inputs
     * and the loaded bundle, so retries are safe. Problems found while gathering context, or missing facts, deny
     * without consulting Cedar. If the bundle was reloaded since the context was captured, the current bundle
     * decides and its version is in the advice.
     */
    async evaluatePolicy({ proposal, context }: EvaluatePolicyInput): Promise<Advice> {
      return adviceFor(runtime.config.bundle, proposal, context);
    },
  };
}
