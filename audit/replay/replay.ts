import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import {
  bundleCache,
  keptWorkflowBundle,
  prebundleWorkflows,
  scopeHoisting,
  sharedWorkflowModules,
  WORKFLOW_FAILURE_CONVERTER_PATH,
  workflowCodeDigest,
  workflowInterceptorModules,
  WORKFLOWS_PATH,
  type WebpackConfig,
} from '../../workflows/bundle';
import { ReplaySession, type ReplayItem, type ReplayOutcome, type WorkflowBundle } from './session';

export type { ReplayItem, ReplayOutcome };

const CAPTURE_PATH = join(dirname(fileURLToPath(import.meta.url)), 'captureResult.ts');
const ED25519_PATH = join(dirname(fileURLToPath(import.meta.url)), 'ed25519Replay.ts');

type Replacement = { request: string; contextInfo?: { issuer?: string } };
type ReplacementPlugin = new (pattern: RegExp, replace: (resource: Replacement) => void) => NonNullable<WebpackConfig['plugins']>[number];

/**
 * Every import of `@noble/ed25519` in the replay bundle — the workflow code's and the preloaded shared instance's —
 * gets ed25519Replay.ts, which imports the library itself: noble with an exact OpenSSL fast path for `verify`.
 * webpack is the one the SDK bundles with (its dependency, not ours).
 */
function withReplayEd25519(config: WebpackConfig): WebpackConfig {
  const webpack = createRequire(createRequire(import.meta.url).resolve('@temporalio/worker/package.json'))('webpack') as {
    NormalModuleReplacementPlugin: ReplacementPlugin;
  };
  const swap = new webpack.NormalModuleReplacementPlugin(/^@noble\/ed25519$/, (resource) => {
    if (resource.contextInfo?.issuer !== ED25519_PATH) resource.request = ED25519_PATH;
  });
  return { ...config, plugins: [...(config.plugins ?? []), swap], ...scopeHoisting(config), ...bundleCache('replay') };
}
// The code is enough to replay (its source map is inline); a bundle handed over by a parent process is only the code.
let replayBundle: Promise<WorkflowBundle> | undefined;

/**
 * The plane's workflow code and interceptors plus the result-capturing interceptor, bundled once per process, with
 * `@noble/ed25519` given its exact OpenSSL fast path (see `withReplayEd25519`); a bundle an earlier process kept is
 * reused while nothing it was built from changed, this file's configuration included (workflows/bundle.ts
 * `keptWorkflowBundle`), else webpack builds it with its persistent cache. Stateless libraries are preloaded (one
 * instance for all replayed workflows, see workflows/bundle.ts `sharedWorkflowModules`).
 */
function replayWorkflowBundle(): Promise<WorkflowBundle> {
  const require = createRequire(import.meta.url);
  replayBundle ??= keptWorkflowBundle(
    'replay',
    {
      workflowsPath: require.resolve(WORKFLOWS_PATH),
      // The plane's own interceptors first, as its worker runs them (a plane history replays only with them), then capture.
      workflowInterceptorModules: [...workflowInterceptorModules(), require.resolve(CAPTURE_PATH)],
      preloadModules: sharedWorkflowModules(),
      failureConverterPath: WORKFLOW_FAILURE_CONVERTER_PATH,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
      webpackConfigHook: withReplayEd25519,
    },
    [fileURLToPath(import.meta.url)],
  );
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

export interface ReplayOptions {
  /** Needed only when the plane encrypts payloads: the same codec. */
  dataConverter?: DataConverter;
}

let keptSession: ReplaySession | undefined;
let keepSession = false;

/**
 * Keeps this thread's replay worker open between calls of `replayForResults` (without a data converter): every batch
 * then replays on the same reusable V8 context, whose set-up and JIT warm-up — ≈ 0.3 s of CPU per worker — are paid
 * once per thread instead of once per batch. Only for a thread that does nothing but verify (verifyThread.ts): the
 * open worker keeps its thread's event loop alive, which a CLI's main thread must not have.
 */
export function keepReplayWorker(): void {
  keepSession = true;
}

/** Shuts down the kept replay worker, if any, once it has finished what is queued (a later batch starts a new one). */
export async function releaseReplayWorker(): Promise<void> {
  const kept = keptSession;
  keptSession = undefined;
  await kept?.close();
}

/**
 * Replays proto3-JSON histories against the locally installed workflow code and returns, per item in order, the
 * workflow's result as the code recomputes it. A determinism violation, or a history the code cannot complete, is
 * `ok: false` with the reason. One replay worker replays the whole batch, one history at a time (see `ReplaySession`:
 * a failed worker fails the history it was on, the rest go to a new one); after `keepReplayWorker` it is the thread's
 * kept worker. The same workflow ID may occur more than once. More workers side by side in one thread do not help:
 * the sandboxed workflow code runs on the calling JS thread either way; to use more cores, audit/pack/verifyThreads.ts
 * runs one replay worker per thread. Never rejects for a bad history; replaying is pure, so a retry gives the same.
 */
export async function replayForResults(items: ReplayItem[], opts: ReplayOptions = {}): Promise<ReplayOutcome[]> {
  quietRuntime();
  const workflowBundle = await replayWorkflowBundle();
  if (keepSession && !opts.dataConverter) {
    keptSession ??= new ReplaySession(workflowBundle);
    const kept = keptSession;
    return Promise.all(items.map((item) => kept.replay(item)));
  }
  const session = new ReplaySession(workflowBundle, opts.dataConverter);
  const outcomes = Promise.all(items.map((item) => session.replay(item)));
  await session.close();
  return outcomes;
}

/** Replays one history; see `replayForResults`. */
export async function replayForResult(history: unknown, workflowId: string, dataConverter?: DataConverter): Promise<ReplayOutcome> {
  const [outcome] = await replayForResults([{ history, workflowId }], { dataConverter });
  return outcome!;
}
