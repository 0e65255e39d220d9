import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { CONTEXT_PROVIDER_ATTEMPTS, type Advice, type AttemptContext, type Proposal } from '../common';
import type { createContextActivities } from './context';
import type { createListingSealActivities } from './listingSeal';
import type { McpDownstream } from './mcp/downstream';
import type { createPolicyActivities } from './policy';

export interface EvaluateAttemptInput {
  attemptId: string;
  proposal: Proposal;
  /** Also seal the calling run for listing (its first evaluation); re-checks pass false. */
  seal: boolean;
}

/**
 * One evaluation in one step: the context as `gatherContext` captures it, the advice `evaluatePolicy` gives on it and,
 * when asked, the run's listing seal (`listingSeal`). `policyError` is set (and `advice` null) only when the policy
 * could not be evaluated on the last try, so the context is still pinned in history and the attempt fails closed.
 */
export interface EvaluateAttemptResult {
  context: AttemptContext;
  advice: Advice | null;
  policyError: string | null;
  seal: string | null;
  /**
   * When the policy's last try failed (ISO 8601, this worker's clock), beside `policyError`. The workflow times the
   * DENIED that follows by it. Absent from results recorded before it was carried: ECP 0.5 recorded `evaluatedAt`
   * beside a `policyError` and timed the DENIED by the workflow clock, and those records must replay as they ran.
   */
  policyFailedAt?: string;
  /**
   * When the evaluation ended, by this worker's clock (ISO 8601). The workflow times the transitions that follow the
   * evaluation by it, since its own clock at that point is not reproducible by replay (workflows/evaluation.ts).
   * Absent from results recorded before it was carried.
   */
  evaluatedAt?: string;
}

/**
 * The evaluation local activity of attempts started since ECP 0.5 (workflows/evaluation.ts): the three activities it
 * is made of, run in one local activity so an attempt's first workflow task waits for one round trip instead of
 * three. Same rules as each of them — the same functions run.
 */
export function createEvaluationActivities(
  context: ReturnType<typeof createContextActivities>,
  policy: ReturnType<typeof createPolicyActivities>,
  sealing: ReturnType<typeof createListingSealActivities>,
  mcp: McpDownstream | null = null,
) {
  return {
    /**
     * Gathers context, evaluates the policy on it and seals the run if asked. Read-only (the seal is a signature over
     * the run's own IDs), so retries are safe; it is retried up to CONTEXT_PROVIDER_ATTEMPTS times as a whole. A
     * context provider still failing on the last try is pinned as `factsError` (as in `gatherContext`); a policy that
     * still cannot be evaluated then is returned as `policyError`. A seal that cannot be made fails the activity.
     * An MCP tool call it allows has its executor's listing started at once (`McpDownstream.prepareExecution`).
     */
    async evaluateAttempt(input: EvaluateAttemptInput): Promise<EvaluateAttemptResult> {
      try {
        return await evaluate(input);
      } catch (err) {
        // A cancelled evaluation stays a cancellation.
        throw Context.current().cancellationSignal.aborted ? err : failedEvaluation(err);
      }
    },
  };

  async function evaluate({ attemptId, proposal, seal }: EvaluateAttemptInput): Promise<EvaluateAttemptResult> {
    const sealed = seal ? sealing.listingSeal() : Promise.resolve(null);
    sealed.catch(() => undefined); // awaited below; a gathering failure first must not leave it unhandled
    const gathered = await context.gatherContext({ attemptId, proposal });
    let advice: Advice | null = null;
    let policyError: string | null = null;
    try {
      advice = await policy.evaluatePolicy({ proposal, context: gathered });
    } catch (err) {
      if (Context.current().info.attempt < CONTEXT_PROVIDER_ATTEMPTS) throw err;
      policyError = (err as Error).message;
    }
    if (advice?.verdict === 'allow') mcp?.prepareExecution(proposal.actionType, attemptId);
    const sealValue = await sealed;
    const endedAt = new Date().toISOString(); // once the seal is in
    const failedAt = policyError === null ? {} : { policyFailedAt: endedAt };
    return { context: gathered, advice, policyError, seal: sealValue, evaluatedAt: endedAt, ...failedAt };
  }
}

/** What a failed evaluation's failure details carry (its first detail); see {@link failedEvaluation}. */
export interface EvaluationFailureDetails {
  evaluatedAt: string;
}

/**
 * The failure an evaluation ends with: the original's message, type and retryability, the original as its cause
 * (with its stack), and when it ended in its details (`EvaluationFailureDetails`), so the workflow can time the DENIED
 * that follows as replay will (workflows/evaluation.ts).
 */
function failedEvaluation(err: unknown): ApplicationFailure {
  const details: EvaluationFailureDetails = { evaluatedAt: new Date().toISOString() };
  const error = err instanceof Error ? err : new Error(String(err));
  const retry =
    err instanceof ApplicationFailure ? { type: err.type ?? undefined, nonRetryable: err.nonRetryable ?? undefined } : { type: error.name };
  return ApplicationFailure.create({ message: error.message, ...retry, details: [details], cause: error });
}
