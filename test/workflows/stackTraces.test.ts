import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_STACK_TRACES_ENV, WorkerWithoutStackTraces } from '../../worker/workflowThreads';
import { refund, uniqueKey, waitForStatus } from '../helpers/attempts';
import { eventually } from '../helpers/eventually';
import { startTestPlane, type TestPlane } from '../helpers/plane';

// The plane worker runs workflows without the SDK's per-promise stack capture unless ECP_WORKFLOW_STACK_TRACES is on
// (worker/workflowThreads.ts). Observable from outside: Temporal's `__stack_trace` query.
let plane: TestPlane;
beforeAll(async () => {
  plane = await startTestPlane();
});
afterAll(async () => {
  delete process.env[WORKFLOW_STACK_TRACES_ENV];
  await plane?.teardown();
});

async function awaitingAttempt(): Promise<string> {
  const { attemptId } = await plane.ecp.propose(refund(7_500, 'order-1001', { idempotencyKey: uniqueKey('stack') }));
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  return attemptId;
}

describe('workflow stack traces on the plane worker', () => {
  it('are off by default: the __stack_trace query is refused, the attempt is unaffected', async () => {
    const attemptId = await awaitingAttempt();
    const handle = plane.ecp.client.workflow.getHandle(attemptId);
    // The worker's answer ("Workflow stack traces are not enabled on this worker") is sealed by the payload codec;
    // the client sees the query refused.
    await expect(handle.query('__stack_trace')).rejects.toMatchObject({ name: 'QueryNotRegisteredError' });
    expect((await plane.ecp.getRecord(attemptId)).status).toBe('AWAITING_DECISION');
  });

  it(`are back with ${WORKFLOW_STACK_TRACES_ENV}=1: the query answers the attempt's source-mapped stack`, async () => {
    process.env[WORKFLOW_STACK_TRACES_ENV] = '1';
    try {
      await plane.stopWorker();
      await plane.startWorker();
    } finally {
      delete process.env[WORKFLOW_STACK_TRACES_ENV];
    }
    const attemptId = await awaitingAttempt();
    const stack = (await plane.ecp.client.workflow.getHandle(attemptId).query('__stack_trace')) as string;
    expect(stack).toMatch(/executionAttempt/);
    expect(stack).toMatch(/workflows\/\w+\.ts:\d+/);
  });
});

describe('a workflow worker without stack traces', () => {
  it('still fails a workflow task that runs over its deadlock timeout', async () => {
    const taskQueue = uniqueKey('spin');
    const worker = await WorkerWithoutStackTraces.create({
      connection: plane.env.nativeConnection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('../helpers/spinWorkflow.ts', import.meta.url)),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
      }),
    });
    const running = worker.run();
    try {
      const handle = await plane.ecp.client.workflow.start('spin', { taskQueue, workflowId: taskQueue });
      const failure = await eventually('a failed workflow task', async () => {
        const { events } = await handle.fetchHistory();
        return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
      });
      expect(failure).toMatch(/Script execution timed out/);
      await handle.terminate('test done');
    } finally {
      worker.shutdown();
      await running;
    }
  });
});
