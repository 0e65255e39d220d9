import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type InjectedSinks, type LogLevel } from '@temporalio/worker';
import {
  idleTelemetrySinks,
  prebundleWorkflows,
  sharedWorkflowModules,
  WORKFLOW_FAILURE_CONVERTER_PATH,
  workflowCodeDigest,
  workflowInterceptorModules,
  WORKFLOWS_PATH,
} from '../../workflows/bundle';
import type { ReplayCaptureSinks } from './captureResult';

const CAPTURE_PATH = join(dirname(fileURLToPath(import.meta.url)), 'captureResult.ts');
// The code is enough to replay (its source map is inline); a bundle handed over by a parent process is only the code.
type WorkflowBundle = { code: string };
let replayBundle: Promise<WorkflowBundle> | undefined;

/**
 * The plane's workflow code and interceptors plus the result-capturing interceptor, bundled once per process. Stateless libraries
 * are preloaded (one instance for all replayed workflows, see workflows/bundle.ts `sharedWorkflowModules`).
 */
function replayWorkflowBundle(): Promise<WorkflowBundle> {
  const require = createRequire(import.meta.url);
  replayBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_PATH),
    // The plane's own interceptors first, as its worker runs them (a plane history replays only with them), then capture.
    workflowInterceptorModules: [...workflowInterceptorModules(), require.resolve(CAPTURE_PATH)],
    preloadModules: sharedWorkflowModules(),
    failureConverterPath: WORKFLOW_FAILURE_CONVERTER_PATH,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
  });
  return replayBundle;
}

let localDigest: Promise<string> | undefined;

/**
 * Digest of the locally installed workflow code as the plane's worker bundles it: the value the plane's worker build ID
 * (`ecp@<version>+<hex>`, recorded in history) carries.
 */
export function localWorkflowBundleDigest(): Promise<string> {
  // Hashing the multi-megabyte bundle costs milliseconds: once per process, not once per pack.
  localDigest ??= prebundleWorkflows().then(workflowCodeDigest);
  return localDigest;
}

/** Builds both bundles ahead of time (each takes seconds), e.g. before timing verification. */
export async function warmUpReplay(): Promise<void> {
  await Promise.all([replayWorkflowBundle(), prebundleWorkflows()]);
}

/** What a verification thread needs from the process that bundled: the replay bundle's code and the local code digest. */
export interface ReplayBundles {
  replayCode: string;
  localDigest: string;
}

/** The replay bundle and the local code digest, built once here and handed to verification threads (see `adoptReplayBundles`). */
export async function replayBundles(): Promise<ReplayBundles> {
  const [bundle, localDigest] = await Promise.all([replayWorkflowBundle(), localWorkflowBundleDigest()]);
  return { replayCode: withoutSourceMap(bundle.code), localDigest };
}

const SOURCE_MAP_MARKER = '\n//# sourceMappingURL=';
/**
 * The replay bundle's code with an empty source map in place of its multi-megabyte inline one. Every replay worker
 * parses the map (JSON, base64, a wasm consumer): for a thread without stack-trace tracking it only maps error stacks
 * to sources, and no check reads a stack. The code that runs is byte for byte the same.
 */
function withoutSourceMap(code: string): string {
  const end = code.lastIndexOf(SOURCE_MAP_MARKER);
  if (end === -1) return code;
  const empty = Buffer.from(JSON.stringify({ version: 3, file: 'ecp-replay-bundle.js', sources: [], names: [], mappings: '' })).toString(
    'base64',
  );
  return `${code.slice(0, end)}${SOURCE_MAP_MARKER}data:application/json;base64,${empty}`;
}

/**
 * Uses bundles built by the parent process instead of bundling again (a verification thread: webpack takes seconds,
 * and the parent's bundle is of the same local code). Must be called before any replay in this thread.
 */
export function adoptReplayBundles(bundles: ReplayBundles): void {
  replayBundle ??= Promise.resolve({ code: bundles.replayCode });
  localDigest ??= Promise.resolve(bundles.localDigest);
}

/**
 * Turns off the SDK's workflow stack-trace tracking for replay in this thread. It installs a V8 promise hook that
 * captures and source-maps a stack for every promise the workflow code creates, to answer a live worker's
 * `__stack_trace` query; a replay answers no query, and the hook was ≈ 40 % of the replay CPU per pack. It changes no
 * workflow command or result (the replay check still compares them). Only for a thread that does nothing but verify:
 * the hook is process-wide (per thread) and must be turned off before the first replay worker starts.
 */
export async function withoutWorkflowStackTraces(): Promise<void> {
  const { globalHandlers } = await import('@temporalio/worker/lib/workflow/vm-shared.js');
  // `install()` is idempotent on this flag: marking it installed keeps the prepareStackTrace override and the
  // promise hook out (the SDK then also tells the workflow runtime that stack traces are off).
  globalHandlers.installed = true;
}

export type ReplayOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/**
 * The SDK's replay worker without its per-call sandbox watchdog. Replay runs in debug mode, where the SDK's isolate
 * execution timeout is 2^32 − 1 ms (≈ 50 days): it never fires, but Node's `vm` starts a watchdog thread for every
 * call into the sandbox that has a timeout — ≈ 100 µs of CPU (and more of wall time) per call, dozens of calls per
 * history. Without the timeout the workflow code runs exactly the same; a history whose code never finishes hangs
 * the replay as it (practically) did before.
 */
class AuditReplayWorker extends Worker {
  protected static override createWorkflowCreator(
    ...[bundle, compiled, logger]: Parameters<typeof Worker.createWorkflowCreator>
  ): ReturnType<typeof Worker.createWorkflowCreator> {
    return super.createWorkflowCreator(bundle, { ...compiled, isolateExecutionTimeoutMs: undefined as unknown as number }, logger);
  }
}

let replaySeq = 0;
let runtimeChecked = false;

/** Replay workers log every state change at INFO; an auditor's terminal needs only warnings (ECP_LOG_LEVEL overrides). */
function quietRuntime(): void {
  if (runtimeChecked) return;
  runtimeChecked = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.ECP_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'WARN') });
  } catch {
    // Already installed by the embedding process: keep its logger.
  }
}

/** One history to replay, with the attempt (workflow) ID it belongs to. */
export interface ReplayItem {
  history: unknown;
  workflowId: string;
}

export interface ReplayOptions {
  /** Needed only when the plane encrypts payloads: the same codec. */
  dataConverter?: DataConverter;
}

/**
 * Replays proto3-JSON histories against the locally installed workflow code (`Worker.runReplayHistories`: one
 * replay worker for the whole batch, fed lazily) and returns, per item in order, the workflow's result as the code
 * recomputes it. A determinism violation, or a history the code cannot complete, is `ok: false` with the reason.
 * The same workflow ID may occur more than once (a replay worker replays one history at a time, so each result
 * belongs to the history just pushed). If the replay worker itself fails, the history it was on fails and the rest
 * go to a new worker. More workers side by side in one thread do not help: the sandboxed workflow code runs on the calling
 * JS thread either way; to use more cores, audit/pack/verifyThreads.ts runs one replay worker per thread.
 */
export async function replayForResults(items: ReplayItem[], opts: ReplayOptions = {}): Promise<ReplayOutcome[]> {
  quietRuntime();
  const workflowBundle = await replayWorkflowBundle();
  const outcomes: ReplayOutcome[] = new Array(items.length);
  let pending = [...items.keys()];
  while (pending.length > 0) {
    const next = await replayStream(items, pending, workflowBundle, outcomes, opts.dataConverter);
    // A retry comes only after a round settled at least one history, so this ends.
    pending = next === 'retry' ? pending.filter((index) => outcomes[index] === undefined) : [];
  }
  return outcomes;
}

/**
 * Replays `indexes` on one replay worker, filling `outcomes`. `retry` when the worker failed part-way (the history it
 * was on has the failure as its outcome; the ones it did not reach have none yet).
 */
async function replayStream(
  items: ReplayItem[],
  indexes: number[],
  workflowBundle: WorkflowBundle,
  outcomes: ReplayOutcome[],
  dataConverter?: DataConverter,
): Promise<'done' | 'retry'> {
  // Histories are replayed strictly one at a time per worker, and the sink fires before the eviction that yields the
  // result, so `captured` holds at most the result of the history in flight.
  const captured = new Map<string, unknown>();
  const inFlight: number[] = [];
  const sinks: InjectedSinks<ReplayCaptureSinks> = {
    ...idleTelemetrySinks(),
    ecpReplay: {
      completed: {
        fn: (info, result) => {
          captured.set(info.workflowId, result);
        },
        callDuringReplay: true,
      },
    },
  };
  // Converted lazily, as the worker asks for the next history: a malformed one is reported and skipped.
  async function* histories(): AsyncGenerator<HistoryAndWorkflowId> {
    for (const index of indexes) {
      const item = items[index]!;
      let history: HistoryAndWorkflowId['history'];
      try {
        history = historyFromJSON(item.history);
      } catch (err) {
        outcomes[index] = { ok: false, error: `the history is not a valid Temporal history: ${(err as Error).message}` };
        continue;
      }
      captured.clear();
      inFlight.push(index);
      yield { workflowId: item.workflowId, history };
    }
  }
  try {
    const results = AuditReplayWorker.runReplayHistories(
      { workflowBundle, sinks, dataConverter, replayName: `ecp-audit-${process.pid}-${replaySeq++}` },
      histories(),
    );
    for await (const result of results) {
      if (inFlight[0] === undefined || items[inFlight[0]]!.workflowId !== result.workflowId)
        throw new Error(`replay result for an unexpected workflow ${result.workflowId}`);
      const index = inFlight.shift()!;
      if (result.error) outcomes[index] = { ok: false, error: `${result.error.name}: ${result.error.message}` };
      else if (!captured.has(result.workflowId))
        outcomes[index] = { ok: false, error: 'the workflow code did not complete when replaying this history' };
      else outcomes[index] = { ok: true, result: captured.get(result.workflowId) };
      captured.clear();
    }
  } catch (err) {
    const error = `${(err as Error).name}: ${(err as Error).message}`;
    const current = inFlight[0];
    if (current !== undefined) outcomes[current] ??= { ok: false, error };
    if (indexes.some((index) => outcomes[index] !== undefined) && indexes.some((index) => outcomes[index] === undefined)) return 'retry';
    // Failed before settling anything (e.g. the worker could not start): another worker would not do better.
    for (const index of indexes) outcomes[index] ??= { ok: false, error };
    return 'done';
  }
  for (const index of indexes) outcomes[index] ??= { ok: false, error: 'the replay produced no result for this history' };
  return 'done';
}

/** Replays one history; see `replayForResults`. */
export async function replayForResult(history: unknown, workflowId: string, dataConverter?: DataConverter): Promise<ReplayOutcome> {
  const [outcome] = await replayForResults([{ history, workflowId }], { dataConverter });
  return outcome!;
}
