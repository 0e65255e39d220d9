/// <reference lib="dom" />
import { api, ApiFailure } from '../api';
import { decisionStatement, type DecisionStatementInput } from '../../common/statement';
import { signStatement } from '../signing';

/**
 * The one way the console's panels (decide, override, ratify) send a decision: the statement `ecp` would sign
 * (common/statement.ts), signed in the browser with the human's own key, then sent to the plane. Resolves with the
 * plane's answer; rejects with an Error whose message is the text to show (a refusal names its code). Not retried:
 * the workflow records a refusal, and the human decides again.
 */
export async function sendSignedDecision(input: DecisionStatementInput): Promise<Awaited<ReturnType<typeof api.decide>>> {
  try {
    return await api.decide(input.attemptId, await signStatement(decisionStatement(input)));
  } catch (err) {
    throw new Error(
      err instanceof ApiFailure ? `Refused${err.refusal ? ` (${err.refusal})` : ` (${err.code})`}: ${err.message}` : (err as Error).message,
    );
  }
}
