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

/** What {@link installActivationWatchdog} patches: the SDK's workflow classes, as the workflow thread loads them. */
export interface SdkWorkflowClasses {
  /** `vm-shared.js`'s BaseVMWorkflow: `activate` is one activation. */
  BaseVMWorkflow: { prototype: object };
  /** The workflow creators (`reusable-vm.js`, `vm.js`): `createWorkflow` calls into the sandbox once. */
  creators: Array<{ prototype: object }>;
}

/**
 * One deadlock watchdog per workflow activation instead of one per call into the sandbox. The SDK runs every call
 * into a workflow's V8 context (`initRuntime`, `initialize`, `activate`, each `tryUnblockConditions`,
 * `concludeActivation`) as `runInContext` with the isolate execution timeout, and Node starts and joins a watchdog
 * thread for each such call (≈ 130 µs even on an idle machine; an auto-allowed attempt makes about twenty). This runs
 * each activation — and the workflow's creation — inside one call into the context that carries the timeout, and the
 * SDK's own calls nested in it without one: the same calls in the same order (microtasks still run after each, as
 * the context's `afterEvaluate` mode does for nested calls), under one watchdog that stops the whole activation when it
 * runs over the timeout. A spinning workflow task fails as before, with the same error ("Script execution timed out
 * after …ms") in the same failed completion the SDK builds; the bound is now per activation rather than per call.
 *
 * Plain JavaScript in a TypeScript file: the workflow threads run it from its source text ({@link threadSource}), so
 * it may use only its arguments. Idempotent per thread.
 */
export function installActivationWatchdog(vm: typeof import('node:vm'), sdk: SdkWorkflowClasses): void {
  type Options = { timeout?: number; displayErrors?: boolean } | undefined;
  type RunInContext = (this: unknown, context: object, options?: Options) => unknown;
  type Workflow = { context: Record<string, unknown>; activator: { info: { runId: string }; errorToFailure(err: unknown): unknown } };
  const scriptProto = vm.Script.prototype as unknown as { runInContext: RunInContext; ecpActivationWatchdog?: boolean };
  if (scriptProto.ecpActivationWatchdog) return;
  const runInContext = scriptProto.runInContext;
  let depth = 0;
  // Inside a guarded call, the SDK's calls run without a watchdog of their own: the guard's covers them.
  scriptProto.runInContext = function (this: unknown, context: object, options?: Options) {
    if (depth > 0 && options?.timeout !== undefined) {
      const { timeout: _covered, ...rest } = options;
      return runInContext.call(this, context, rest);
    }
    return runInContext.call(this, context, options);
  };
  Object.defineProperty(scriptProto, 'ecpActivationWatchdog', { value: true });
  // The timeout of each context's workflows (a thread has one creator; the main thread, in debug mode, may have more).
  const timeouts = new WeakMap<object, number>();
  const enter = new vm.Script('(() => { const run = globalThis.__ecp_guarded; delete globalThis.__ecp_guarded; return run(); })()');
  const guarded = <T>(context: Record<string, unknown> | undefined, run: () => T): T => {
    const timeout = context ? timeouts.get(context) : undefined;
    if (depth > 0 || context === undefined || timeout === undefined) return run();
    context.__ecp_guarded = run;
    depth += 1;
    try {
      return runInContext.call(enter, context, { timeout, displayErrors: true }) as T;
    } finally {
      depth -= 1;
      delete context.__ecp_guarded;
    }
  };
  for (const creator of sdk.creators) {
    const proto = creator.prototype as {
      createWorkflow(options: unknown): Promise<Workflow>;
      isolateExecutionTimeoutMs: number;
      _context?: Record<string, unknown>;
    };
    const createWorkflow = proto.createWorkflow;
    proto.createWorkflow = function (options: unknown) {
      const timeout = this.isolateExecutionTimeoutMs;
      // The reusable creator's one context exists already; the per-workflow creator makes the context inside.
      const shared = this._context;
      if (shared) timeouts.set(shared, timeout);
      const created = guarded(shared, () => createWorkflow.call(this, options));
      return created.then((workflow) => {
        timeouts.set(workflow.context, timeout);
        return workflow;
      });
    };
  }
  const workflowProto = sdk.BaseVMWorkflow.prototype as { activate(activation: unknown): Promise<unknown> };
  const activate = workflowProto.activate;
  workflowProto.activate = function (this: Workflow, activation: unknown) {
    try {
      return guarded(this.context, () => activate.call(this, activation));
    } catch (err) {
      // Only the guard's watchdog gets here (the SDK's activate turns its own errors into a failed completion): the
      // completion the SDK gives for a call that timed out.
      return Promise.resolve({ runId: this.activator.info.runId, failed: { failure: this.activator.errorToFailure(err) } });
    }
  };
}

/** The SDK modules the workflow threads load (the same files, so the patched classes are the ones the SDK uses). */
const SDK_MODULES = {
  vmShared: require.resolve('@temporalio/worker/lib/workflow/vm-shared.js'),
  reusableVm: require.resolve('@temporalio/worker/lib/workflow/reusable-vm.js'),
  vm: require.resolve('@temporalio/worker/lib/workflow/vm.js'),
  thread: require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread.js'),
};

/**
 * What each workflow thread runs, before the SDK's own thread module: the activation watchdog, and without stack
 * traces, the SDK's global handlers of this thread marked as installed, so `install()` (idempotent on that flag) never
 * puts in the V8 promise hook nor the `Error.prepareStackTrace` override. The modules resolve to the same files the
 * SDK's thread loads, so the flag and the patches are on the very objects it uses. CommonJS: an eval'd thread has
 * `require`. (`__name`: a no-op for the helper a transpiler may add to named functions in the watchdog's source.)
 */
export function threadSource(stackTraces: boolean): string {
  const req = (path: string) => `require(${JSON.stringify(path)})`;
  return [
    'const __name = (target) => target;',
    ...(stackTraces ? [] : [`${req(SDK_MODULES.vmShared)}.globalHandlers.installed = true;`]),
    `(${installActivationWatchdog.toString()})(require('node:vm'), {`,
    `  BaseVMWorkflow: ${req(SDK_MODULES.vmShared)}.BaseVMWorkflow,`,
    `  creators: [${req(SDK_MODULES.reusableVm)}.ReusableVMWorkflowCreator, ${req(SDK_MODULES.vm)}.VMWorkflowCreator],`,
    '});',
    `${req(SDK_MODULES.thread)};`,
  ].join('\n');
}

/**
 * The SDK's Worker with the plane's workflow threads ({@link threadSource}): the SDK's threaded creator, fed our
 * thread source. Everything else is the SDK's unchanged: the same thread pool size, the same reusable V8 context and
 * the same isolate execution timeout, so a workflow task that runs over it still fails (unlike replay, where the
 * timeout is dropped). Debug mode (workflows on the main thread) is left to the SDK as it is.
 */
function planeThreadsWorker(stackTraces: boolean): typeof Worker {
  const source = threadSource(stackTraces);
  return class PlaneThreadsWorker extends Worker {
    protected static override async createWorkflowCreator(
      ...args: Parameters<typeof Worker.createWorkflowCreator>
    ): ReturnType<typeof Worker.createWorkflowCreator> {
      const [workflowBundle, compiled, logger] = args;
      if (compiled.debugMode) return super.createWorkflowCreator(...args);
      // As ThreadedVMWorkflowCreator.create, with our thread source in place of the SDK's thread file.
      const clients = Array.from(
        { length: compiled.workflowThreadPoolSize },
        () => new WorkerThreadClient(new NodeWorker(source, { eval: true }), logger, compiled.patchActivationCallback),
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
  };
}

/**
 * The plane's default worker: its workflow threads have the activation watchdog and run without the SDK's workflow
 * stack-trace tracking. The SDK installs, in each workflow thread, a V8 promise hook that captures and source-maps a
 * stack for every promise workflow code creates, only to answer Temporal's `__stack_trace` /
 * `__enhanced_stack_trace` queries (the Temporal UI's "stack trace" tab). It costs the live worker ≈ 3 ms of CPU per
 * attempt (docs/performance.md). Without it the workflow code runs the same and emits the same commands; those queries
 * then fail with "Workflow stack traces are not enabled on this worker", and a workflow error's stack shows bundle
 * positions instead of source-mapped ones.
 */
export const WorkerWithoutStackTraces = planeThreadsWorker(false);
/** The same with the SDK's stack-trace tracking on (`ECP_WORKFLOW_STACK_TRACES=1`). */
export const WorkerWithStackTraces = planeThreadsWorker(true);

/** The Worker class the plane uses: {@link WorkerWithStackTraces} with stack traces on, else {@link WorkerWithoutStackTraces}. */
export function planeWorkerClass(stackTraces: boolean): typeof Worker {
  return stackTraces ? WorkerWithStackTraces : WorkerWithoutStackTraces;
}
