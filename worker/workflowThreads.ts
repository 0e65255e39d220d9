import { createRequire } from 'node:module';
import { Worker as NodeWorker } from 'node:worker_threads';
import { Worker } from '@temporalio/worker';
import { ThreadedVMWorkflowCreator, WorkerThreadClient } from '@temporalio/worker/lib/workflow/threaded-vm.js';
import { EcpError } from '../common';

/** The environment variable that turns the SDK's workflow stack traces back on (docs/operations.md). */
export const WORKFLOW_STACK_TRACES_ENV = 'ECP_WORKFLOW_STACK_TRACES';

/**
 * Whether the plane worker tracks workflow stack traces, from `ECP_WORKFLOW_STACK_TRACES`: unset, empty, `0`, `false`
 * or `off` → no (the default); `1`, `true` or `on` → yes. Anything else is a clear `config_invalid` error naming the
 * variable, so a typo does not silently leave the switch where it was.
 */
export function workflowStackTracesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[WORKFLOW_STACK_TRACES_ENV]?.trim();
  if (raw === undefined || raw === '') return false;
  const value = raw.toLowerCase();
  if (value === '1' || value === 'true' || value === 'on') return true;
  if (value === '0' || value === 'false' || value === 'off') return false;
  throw new EcpError(
    'config_invalid',
    `${WORKFLOW_STACK_TRACES_ENV} "${raw}" must be one of 1, true, on (track workflow stack traces) or 0, false, off`,
    WORKFLOW_STACK_TRACES_ENV,
  );
}

const require = createRequire(import.meta.url);

/**
 * What each workflow thread runs: mark the SDK's global handlers of this thread as installed before the SDK's own
 * thread module loads, so `install()` (idempotent on that flag) never puts in the V8 promise hook nor the
 * `Error.prepareStackTrace` override. Both modules resolve to the same files the SDK's thread would load, so the
 * flag is set on the very object the SDK's workflow creator reads. CommonJS: an eval'd thread has `require`.
 */
const THREAD_SOURCE = [
  `require(${JSON.stringify(require.resolve('@temporalio/worker/lib/workflow/vm-shared.js'))}).globalHandlers.installed = true;`,
  `require(${JSON.stringify(require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread.js'))});`,
].join('\n');

/**
 * The Temporal worker of the plane without the SDK's workflow stack-trace tracking. The SDK installs, in each
 * workflow thread, a V8 promise hook that captures and source-maps a stack for every promise workflow code creates,
 * only to answer Temporal's `__stack_trace` / `__enhanced_stack_trace` queries (the Temporal UI's "stack trace" tab).
 * It costs the live worker ≈ 3 ms of CPU per attempt (docs/performance.md). Without it the workflow code runs the
 * same and emits the same commands; those queries then fail with "Workflow stack traces are not enabled on this
 * worker", and a workflow error's stack shows bundle positions instead of source-mapped ones.
 *
 * Everything else is the SDK's threaded creator unchanged: the same thread pool size, the same reusable V8 context,
 * and the same isolate execution timeout, so a workflow task that runs over it still fails (unlike replay, where
 * the timeout is dropped). Debug mode (workflows on the main thread) is left to the SDK as it is.
 */
export class WorkerWithoutStackTraces extends Worker {
  protected static override async createWorkflowCreator(
    ...args: Parameters<typeof Worker.createWorkflowCreator>
  ): ReturnType<typeof Worker.createWorkflowCreator> {
    const [workflowBundle, compiled, logger] = args;
    if (compiled.debugMode) return super.createWorkflowCreator(...args);
    // As ThreadedVMWorkflowCreator.create, with our thread source in place of the SDK's thread file.
    const clients = Array.from(
      { length: compiled.workflowThreadPoolSize },
      () => new WorkerThreadClient(new NodeWorker(THREAD_SOURCE, { eval: true }), logger, compiled.patchActivationCallback),
    );
    try {
      await Promise.all(
        clients.map((client) =>
          client.send({
            type: 'init',
            workflowBundle,
            isolateExecutionTimeoutMs: compiled.isolateExecutionTimeoutMs,
            reuseV8Context: compiled.reuseV8Context ?? true,
            registeredActivityNames: new Set(compiled.activities.keys()),
            hasPatchActivationCallback: compiled.patchActivationCallback !== undefined,
          }),
        ),
      );
    } catch (err) {
      // A thread that failed to start must not keep the process alive.
      await Promise.allSettled(clients.map((client) => client.destroy()));
      throw err;
    }
    return new ThreadedVMWorkflowCreator(clients);
  }
}

/** The Worker class the plane uses: the SDK's own with stack traces on, else {@link WorkerWithoutStackTraces}. */
export function planeWorkerClass(stackTraces: boolean): typeof Worker {
  return stackTraces ? Worker : WorkerWithoutStackTraces;
}
