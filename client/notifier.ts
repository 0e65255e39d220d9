import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { NOTIFICATION_TASK_QUEUE, NOTIFIER_WORKFLOW_ID, NOTIFIER_WORKFLOW_TYPE } from '../common';

/** Starts the singleton notifier workflow unless it runs already. Idempotent; true when this call started it. */
export async function ensureNotifier(client: Client, input: { intervalSeconds?: number } = {}): Promise<boolean> {
  const requestId = randomUUID();
  try {
    const handle = await client.workflow.start(NOTIFIER_WORKFLOW_TYPE, {
      workflowId: NOTIFIER_WORKFLOW_ID,
      taskQueue: NOTIFICATION_TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { requestId },
    });
    return (await handle.describe()).memo?.requestId === requestId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}
