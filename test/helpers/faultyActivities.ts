import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { createEvaluationActivities } from '../../activities/evaluation';
import type { TestPlane } from './plane';

/** Idempotency-key prefixes that make an attempt's evaluation fail (see {@link faultyActivities}). */
export const FAULTS = {
  /** Its policy throws on every try (three tries, ≈ 1.5 s in all): the evaluation ends with `policyError`. */
  policy: 'policy-unavailable',
  /** Its context is gathered once; the re-check after an approval fails outright (not retried). */
  recheck: 'recheck-unavailable',
} as const;

/**
 * The plane's own activities with faults injected into evaluation, for tests and recorded histories: the attempts
 * named by {@link FAULTS} fail as described, and the runs in `unsealable` (attempt IDs: the seal activity has only its
 * run's IDs to go by) cannot be sealed, at evaluation or when asked on their own (fails at once). Everything else
 * runs unchanged. Pass as `workerOptions.activities`.
 */
export function faultyActivities(plane: TestPlane, unsealable: ReadonlySet<string> = new Set()) {
  const real = createActivities(plane.runtime, null, plane.planeKey);
  const policy = {
    async evaluatePolicy(input: Parameters<typeof real.evaluatePolicy>[0]) {
      if (input.proposal.idempotencyKey.startsWith(FAULTS.policy)) throw new Error('the policy engine is unavailable');
      return real.evaluatePolicy(input);
    },
  };
  const sealing = {
    async listingSeal() {
      if (unsealable.has(Context.current().info.workflowExecution?.workflowId ?? '')) {
        throw ApplicationFailure.nonRetryable('the plane key is unavailable', 'PlaneKeyUnavailable');
      }
      return real.listingSeal();
    },
  };
  const gathered = new Set<string>();
  const context = {
    async gatherContext(input: Parameters<typeof real.gatherContext>[0]) {
      const key = input.proposal.idempotencyKey;
      if (key.startsWith(FAULTS.recheck) && gathered.has(key)) {
        throw ApplicationFailure.nonRetryable('the directory is unavailable', 'DirectoryUnavailable');
      }
      gathered.add(key);
      return real.gatherContext(input);
    },
  };
  return { ...real, ...sealing, ...createEvaluationActivities(context, policy, sealing) };
}
