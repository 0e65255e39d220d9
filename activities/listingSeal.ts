import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { KeyObject } from 'node:crypto';
import { signListingSeal } from '../client/listingSeal';
import { ATTEMPT_WORKFLOW_TYPES, FailureType, isAttemptWorkflowType } from '../common';

export function createListingSealActivities(planeKey: KeyObject) {
  return {
    /**
     * The listing seal of the calling attempt run (client/listingSeal.ts). It signs the namespace, workflow ID and run
     * ID the worker was given by Temporal, not arguments, so no workflow can have another run's seal made; and it only
     * seals attempt workflows, whose code publishes every listed field itself.
     */
    async listingSeal(): Promise<string> {
      const info = Context.current().info;
      if (!isAttemptWorkflowType(info.workflowType) || !info.workflowExecution) {
        throw ApplicationFailure.nonRetryable(
          `only ${ATTEMPT_WORKFLOW_TYPES.join(' and ')} workflows are sealed, not ${info.workflowType ?? 'a caller without a workflow'}`,
          FailureType.NotAnAttempt,
        );
      }
      return signListingSeal(planeKey, info.namespace, info.workflowExecution.workflowId, info.workflowExecution.runId);
    },
  };
}
