import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { BaseVMWorkflow } from '@temporalio/worker/lib/workflow/vm-shared.js';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm.js';
import { VMWorkflowCreator } from '@temporalio/worker/lib/workflow/vm.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { installActivationWatchdog } from '../../worker/workflowThreads';
import { eventually } from '../helpers/eventually';
import { startDevServer } from '../helpers/temporalServers';
import { uniqueKey } from '../helpers/attempts';

// Calls into a workflow sandbox that reach Node with a timeout: each starts and joins a watchdog thread.
const scriptProto = vm.Script.prototype as unknown as { runInContext: (this: unknown, ...args: unknown[]) => unknown };
const realRunInContext = scriptProto.runInContext;
let timedCalls = 0;
scriptProto.runInContext = function (this: unknown, ...args: unknown[]) {
  if ((args[1] as { timeout?: number } | undefined)?.timeout !== undefined) timedCalls += 1;
  return realRunInContext.apply(this, args);
};
// The plane's workflow threads install it the same way (worker/workflowThreads.ts); here the SDK's debug mode runs the
// workflows on this thread, with the same classes.
installActivationWatchdog(vm, { BaseVMWorkflow, creators: [ReusableVMWorkflowCreator, VMWorkflowCreator] });

let env: TestWorkflowEnvironment;
let workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>;
beforeAll(async () => {
  ({ env } = await startDevServer());
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../helpers/watchdogWorkflows.ts', import.meta.url)),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
  });
});
afterAll(async () => env?.teardown());

async function withWorker<T>(isolateExecutionTimeout: string, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueKey('watchdog');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities: { echo: async (x: number) => x },
    debugMode: true,
    // Not in WorkerOptions' type, but the SDK takes it over its default (debug mode's is 49 days).
    ...({ isolateExecutionTimeout } as object),
  });
  return worker.runUntil(() => fn(taskQueue));
}

describe('the activation watchdog of the plane’s workflow threads', () => {
  it('starts one watchdog per activation, not one per call into the sandbox', async () => {
    const runs = 4;
    const perRun = await withWorker('5s', async (taskQueue) => {
      const before = timedCalls;
      for (let i = 0; i < runs; i++) {
        const handle = await env.client.workflow.start('steps', { taskQueue, workflowId: uniqueKey('steps') });
        await eventually('the local activity done', async () => ((await handle.fetchHistory()).events?.length ?? 0) >= 5 || undefined);
        await handle.signal('go');
        expect(await handle.result()).toBe(3);
      }
      return (timedCalls - before) / runs;
    });
    // Each run: its creation, four activations (start, local activity, signal, activity) under one watchdog each and
    // the eviction's dispose: 6 (8 leaves room for an extra eviction activation). The SDK alone makes 15.
    expect(perRun).toBeGreaterThan(0);
    expect(perRun).toBeLessThanOrEqual(8);
  });

  it('still fails a workflow task that runs over the timeout, with the SDK’s error, and the worker goes on', async () => {
    await withWorker('1s', async (taskQueue) => {
      const handle = await env.client.workflow.start('spin', { taskQueue, workflowId: uniqueKey('spin') });
      const failure = await eventually('a failed workflow task', async () => {
        const { events } = await handle.fetchHistory();
        return events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
      });
      expect(failure).toBe('Script execution timed out after 1000ms');
      await handle.terminate('test done');
      // The same worker (and its reused V8 context) still runs workflows.
      const next = await env.client.workflow.start('steps', { taskQueue, workflowId: uniqueKey('after-spin') });
      await next.signal('go');
      expect(await next.result()).toBe(3);
    });
  });
});
