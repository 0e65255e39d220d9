import { ActivityFailure, ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import type { EvaluateAttemptResult, EvaluationFailureDetails } from '../activities/evaluation';
import { CONTEXT_PROVIDER_ATTEMPTS, type Advice, type AttemptContext } from '../common';
import type { AttemptState } from './attemptState';
import { evaluationFor, type Evaluation } from './legacy';
import { acceptSeal, beginSealing, sealIfMissing, startListingSeal } from './visibility';

const contextOptions = { startToCloseTimeout: '30s', retry: { maximumAttempts: CONTEXT_PROVIDER_ATTEMPTS, initialInterval: '500ms' } };
const policyOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '200ms' } };

// Context and policy are read-only and short, so they run as local activities: their results are still pinned in
// history (as markers) and replayed, but evaluation and re-check cost no extra round trips through the server.
// The executor stays a regular activity: it has side effects, its own retry policy and must survive worker loss.
// An automatic allow was evaluated moments ago in this same workflow task, with nothing in between, so that
// evaluation is the fresh one enforcement needs. (Attempts started by ECP 0.1 replay with workflows/legacy.ts.)
const twoStepEvaluation: Evaluation = {
  gatherContext: proxyLocalActivities<PlaneActivities>(contextOptions).gatherContext,
  evaluatePolicy: proxyLocalActivities<PlaneActivities>(policyOptions).evaluatePolicy,
  publishEvaluating: false,
  recheckAutomaticAllow: false,
};

// One-step evaluation (ONE_STEP_EVALUATION_PATCH): context, advice and, the first time, the listing seal in one local
// activity, retried as a whole like context gathering (activities/evaluation.ts).
const { evaluateAttempt } = proxyLocalActivities<PlaneActivities>(contextOptions);

/** Context and the advice given on it, from one evaluation. */
export interface Evaluated {
  context: AttemptContext;
  advice: Advice;
  /**
   * When the evaluation ended (epoch ms), as its result recorded it; null when the result carries no time (ECP 0.1's
   * and two-step evaluations, one-step results recorded before the time was carried). See `AttemptState.timeAfter`.
   */
  endedAtMs: number | null;
}

/** How an attempt evaluates, chosen once per attempt from its history. */
export interface Evaluator {
  /** Publish the EVALUATING status (ECP 0.1 did; it ends within the same task). */
  readonly publishEvaluating: boolean;
  /** Re-check before enforcement on an automatic allow too (ECP 0.1 did; the evaluation is moments old). */
  readonly recheckAutomaticAllow: boolean;
  /** The first evaluation. Its context is pinned in the record (`gathered`) even if the policy then fails. */
  first(): Promise<Evaluated>;
  /** A re-check with fresh facts, directory and policy. */
  again(): Promise<Evaluated>;
  /** Settles once the run has its listing seal or it could not be made (assertListingSeal); never rejects. */
  sealed(): Promise<void>;
  /**
   * When the evaluation that threw `err` ended, as its failure recorded it (epoch ms, never before it was scheduled);
   * null when `err` is not an evaluation's failure or carries no time. See `AttemptState.timeAfter`. Evaluations
   * recorded before these times were carried have none, so their histories replay as they ran without a patch marker
   * (which could not be used here anyway: `patched` answers by workflow task, and the task in which a local
   * activity's result arrives is what can differ between a run and its replay).
   */
  failedAtMs(err: unknown): number | null;
}

/**
 * The evaluator of this attempt. With `oneStep` (attempts started since ECP 0.5): one local activity per evaluation.
 * Otherwise the two local activities (or ECP 0.1's activities) and a listing-seal local activity of its own, issued in
 * the order older attempts recorded them — this calls `patched` for them exactly where the workflow always did.
 * `keepStartMemo` (attempts of WORKFLOW_TYPE): a one-step attempt keeps a start memo that already holds its resource.
 */
export function evaluatorFor(state: AttemptState, oneStep: boolean, keepStartMemo: boolean): Evaluator {
  const input = (seal: boolean) => ({ attemptId: state.attemptId, proposal: state.proposal, seal });
  if (oneStep) {
    beginSealing(state.proposal, keepStartMemo);
    let startedAtMs = 0; // of the latest evaluation (they run one at a time)
    return {
      publishEvaluating: false,
      recheckAutomaticAllow: false,
      async first() {
        startedAtMs = Date.now();
        const result = await evaluateAttempt(input(true));
        state.gathered(result.context); // pinned even if the policy could not be evaluated
        if (result.seal !== null) acceptSeal(result.seal);
        return evaluated(result, startedAtMs);
      },
      async again() {
        startedAtMs = Date.now();
        return evaluated(await evaluateAttempt(input(false)), startedAtMs);
      },
      sealed: sealIfMissing,
      failedAtMs(err) {
        if (err instanceof PolicyUnavailable) return err.endedAtMs;
        // A local activity's failure reaches the workflow as thrown, or wrapped in an ActivityFailure: take either.
        const failure = err instanceof ActivityFailure ? err.cause : err;
        const details = failure instanceof ApplicationFailure ? (failure.details?.[0] as Partial<EvaluationFailureDetails>) : null;
        return endedAtMs(details?.evaluatedAt, startedAtMs);
      },
    };
  }
  const { gatherContext, evaluatePolicy, publishEvaluating, recheckAutomaticAllow } = evaluationFor(twoStepEvaluation);
  const sealing = startListingSeal(state.proposal);
  const gather = () => gatherContext({ attemptId: state.attemptId, proposal: state.proposal });
  return {
    publishEvaluating,
    recheckAutomaticAllow,
    async first() {
      const context = await gather();
      state.gathered(context); // pinned even if the policy then cannot be evaluated
      return { context, advice: await evaluatePolicy({ proposal: state.proposal, context }), endedAtMs: null };
    },
    async again() {
      const context = await gather();
      return { context, advice: await evaluatePolicy({ proposal: state.proposal, context }), endedAtMs: null };
    },
    sealed: () => sealing,
    failedAtMs: () => null,
  };
}

/**
 * `startedAtMs`: the workflow clock when the evaluation was scheduled (reproducible: nothing was pending then). The
 * end is never before it, so a worker clock behind the server's (or a test server's skipped time) cannot date the
 * evaluation before what the workflow saw earlier, such as the decision that led to a re-check.
 */
function evaluated(result: EvaluateAttemptResult, startedAtMs: number): Evaluated {
  // Fails closed: the attempt ends DENIED with this reason ("evaluation failed: …").
  if (result.advice === null) {
    throw new PolicyUnavailable(result.policyError ?? 'the policy gave no advice', endedAtMs(result.policyFailedAt, startedAtMs));
  }
  return { context: result.context, advice: result.advice, endedAtMs: endedAtMs(result.evaluatedAt, startedAtMs) };
}

function endedAtMs(evaluatedAt: unknown, startedAtMs: number): number | null {
  const ended = typeof evaluatedAt === 'string' ? Date.parse(evaluatedAt) : Number.NaN;
  return Number.isFinite(ended) ? Math.max(startedAtMs, ended) : null;
}

/** An evaluation whose policy gave no advice (`policyError`), with when it ended. */
class PolicyUnavailable extends Error {
  constructor(
    message: string,
    readonly endedAtMs: number | null,
  ) {
    super(message);
  }
}
