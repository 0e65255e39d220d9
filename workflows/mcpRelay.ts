import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  mcpRelayAnswerUpdate,
  mcpRelayClaimUpdate,
  mcpRelayOutcomeSchema,
  type McpRelayInput,
  type McpRelayOutcome,
} from '../common/mcpRelay';

/**
 * One request a downstream server sent during a tool call (elicitation or sampling), waiting for the gateway that
 * holds the call to relay it to the agent's client (docs/mcp.md, "Elicitation and sampling"). Command-light: no
 * activities, only two updates and timers. Ends `refused` when nobody claims it within `claimMs` (the call is not
 * held, or was proposed outside the gateway) or the claimant does not answer within `answerMs`. The answer is kept in
 * this workflow's history; it carries no authority over the attempt.
 */
export async function mcpRelay(input: McpRelayInput): Promise<McpRelayOutcome> {
  let claimed = false;
  let outcome: McpRelayOutcome | undefined;
  setHandler(
    mcpRelayClaimUpdate,
    () => {
      claimed = true;
      return { method: input.method, params: input.params };
    },
    {
      validator: () => {
        if (claimed || outcome) throw ApplicationFailure.nonRetryable('this relay was already claimed', 'RelayClaimed');
      },
    },
  );
  setHandler(
    mcpRelayAnswerUpdate,
    (answer) => {
      outcome = answer;
    },
    {
      validator: (answer) => {
        if (!claimed) throw ApplicationFailure.nonRetryable('this relay was not claimed', 'RelayNotClaimed');
        if (outcome) throw ApplicationFailure.nonRetryable('this relay was already answered', 'RelayAnswered');
        const parsed = mcpRelayOutcomeSchema.safeParse(answer);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw ApplicationFailure.nonRetryable(`answer.${issue.path.join('.')}: ${issue.message}`, 'RelayInvalidAnswer');
        }
      },
    },
  );
  if (!(await condition(() => claimed, input.claimMs))) {
    return { kind: 'refused', reason: 'no gateway holds this call, so nobody could ask the agent' };
  }
  if (!(await condition(() => outcome !== undefined, input.answerMs))) {
    return { kind: 'refused', reason: "the agent's client did not answer in time" };
  }
  return outcome!;
}
