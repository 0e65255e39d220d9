import { patched, proxyActivities } from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import { CONTEXT_PROVIDER_ATTEMPTS } from '../common';

/**
 * The ECP 0.1 evaluation path, kept only so attempts started by ECP 0.1 replay as they ran
 * (test/replay/histories-v0.1). ECP 0.1 gathered context and evaluated policy as regular activities, published the
 * EVALUATING status, and re-checked even an automatic allow. Attempts started since carry the
 * {@link LOCAL_EVALUATION_PATCH} marker and never take this path.
 *
 * When it can go: once no ECP 0.1 attempt is open and none must be replayed any more (their histories past the
 * namespace's retention, their records archived and verified — an archived record is verified against its pack,
 * not by replay). Then delete this module, call `deprecatePatch(LOCAL_EVALUATION_PATCH)` for one release, drop
 * test/replay/histories-v0.1, and later drop the marker too.
 */

/** Patch marker of local-activity evaluation; histories without it replay with the ECP 0.1 evaluation. */
export const LOCAL_EVALUATION_PATCH = 'ecp-local-evaluation';

/** How an attempt evaluates: which activities gather context and advice, and the two behaviours ECP 0.1 differed in. */
export interface Evaluation {
  gatherContext: PlaneActivities['gatherContext'];
  evaluatePolicy: PlaneActivities['evaluatePolicy'];
  /** Publish the EVALUATING status as a search-attribute upsert (ECP 0.1 did; it ends within the same task). */
  publishEvaluating: boolean;
  /** Re-check before enforcement on an automatic allow too (ECP 0.1 did; the evaluation is moments old). */
  recheckAutomaticAllow: boolean;
}

// The options ECP 0.1 scheduled its activities with.
const contextOptions = { startToCloseTimeout: '30s', retry: { maximumAttempts: CONTEXT_PROVIDER_ATTEMPTS, initialInterval: '500ms' } };
const policyOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '200ms' } };

const legacyEvaluation: Evaluation = {
  gatherContext: proxyActivities<PlaneActivities>(contextOptions).gatherContext,
  evaluatePolicy: proxyActivities<PlaneActivities>(policyOptions).evaluatePolicy,
  publishEvaluating: true,
  recheckAutomaticAllow: true,
};

/**
 * `current` for attempts started since local-activity evaluation, the ECP 0.1 evaluation for older histories. Calls
 * `patched` (a marker command on a new attempt), so the workflow calls it exactly where it always has.
 */
export function evaluationFor(current: Evaluation): Evaluation {
  return patched(LOCAL_EVALUATION_PATCH) ? current : legacyEvaluation;
}
