import type { Proposal } from './proposal';

/** What `proposalProblems` reads from the plane's configuration (config/load.ts `PlaneConfig` satisfies it). */
export interface AdmissionRules {
  directory: { agents: Record<string, unknown> };
  actionTypes: Record<string, unknown>;
  /** Null when the parameters fit the action type's schema, else a sentence naming the field ('field "parameters.x" …'). */
  validateParameters(proposal: Pick<Proposal, 'actionType' | 'parameters'>): string | null;
}

/** One reason a configuration rules a proposal out: the proposal field at fault and the sentence the plane records. */
export interface ProposalProblem {
  field: string;
  message: string;
}

/**
 * Why this configuration rules the proposal out, in the order found: an agent not in the directory, an action type
 * not configured, parameters that fail the action type's schema (checked only for a configured action type). The one
 * rule for both sides: the plane pins these messages in the attempt's context (activities/context.ts; any of them
 * denies), and the client library refuses such a proposal before it starts anything (client/ecpClient.ts).
 */
export function proposalProblems(
  rules: AdmissionRules,
  proposal: Pick<Proposal, 'agent' | 'actionType' | 'parameters'>,
): ProposalProblem[] {
  const problems: ProposalProblem[] = [];
  // Own properties only: an id such as "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(rules.directory.agents, proposal.agent)) {
    problems.push({ field: 'agent', message: `agent "${proposal.agent}" is not in the directory` });
  }
  if (!Object.hasOwn(rules.actionTypes, proposal.actionType)) {
    problems.push({ field: 'actionType', message: `action type "${proposal.actionType}" is not configured` });
  } else {
    const invalid = rules.validateParameters(proposal);
    if (invalid) problems.push({ field: /field "([^"]+)"/.exec(invalid)?.[1] ?? 'parameters', message: `invalid parameters: ${invalid}` });
  }
  return problems;
}
