import type { KeyObject } from 'node:crypto';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { NOTIFICATION_TASK_QUEUE, STICKY_QUEUE_TIMEOUT_MS, TASK_QUEUE } from '../common';
import { createActivities } from '../activities';
import type { ArchiveBinding } from '../activities/archive';
import type { PlaneRuntime } from '../config/runtime';
import { planeBuildId, prebundleWorkflows } from '../workflows/bundle';
import { loadOrCreatePlaneKey } from '../client/listingSeal';
import { dataDirFromEnv } from '../config/dataDir';
import { LocalKeptStore, type KeptStore } from '../audit/store/kept';
import type { AesGcmPayloadCodec } from '../codec/aesGcm';
import { dataConverterWith, payloadCodecFor } from '../codec/dataConverter';
import { McpDownstream } from '../activities/mcp/downstream';
import { planeWorkerTelemetry, type PlaneTelemetry } from './telemetryOptions';
import { planeWorkerClass, workflowStackTracesFromEnv } from './workflowThreads';

export interface PlaneWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  runtime: PlaneRuntime;
  /** The evidence archive the archiver seals into; null/absent disables archiving on this worker. */
  archive?: ArchiveBinding | null;
  taskQueue?: string;
  /** Payload encryption; default: built from the runtime's configuration or ECP_PAYLOAD_KEYS (codec/). */
  payloadCodec?: AesGcmPayloadCodec;
  /**
   * The plane key that seals attempts for listing; default: ECP_PLANE_KEY's file, else `<dataDir>/plane/plane.key`
   * (generated on first start). Readers verify with its public key (client/listingSeal.ts).
   */
  planeKey?: KeyObject;
  /** Metrics, logs and traces of this worker; absent: none collected (the workflow interceptors still run, idle). */
  telemetry?: PlaneTelemetry;
  workerOptions?: Partial<WorkerOptions>;
  /** The data directory (MCP catalogue file, kept policy bundles); default: ECP_DATA_DIR, else `.ecp-data`. */
  dataDir?: string;
  /** Where the worker's MCP lines go (servers listed, tools left out); default: the console. */
  log?: (line: string) => void;
  /** Connect to the configured MCP servers (default true); a worker that runs no attempts does not. */
  connectMcp?: boolean;
  /** Where policy bundles built from a changed MCP catalogue are kept for auditors; default: the data directory. */
  kept?: KeptStore;
  /**
   * Track workflow stack traces (the SDK's promise hook) so Temporal's `__stack_trace` query answers; default:
   * ECP_WORKFLOW_STACK_TRACES, else off — it costs CPU on every workflow task (worker/workflowThreads.ts).
   */
  workflowStackTraces?: boolean;
}

/**
 * Workflows kept in worker memory between tasks. Attempts awaiting a decision sit idle for hours; keeping them cached
 * buys nothing, so memory is bounded by this number, not by the backlog (an evicted attempt replays on its next task).
 * ECP_MAX_CACHED_WORKFLOWS overrides.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

/**
 * A worker that runs attempt workflows (`executionAttemptV2`, `executionAttempt`) and the plane's activities on task queue `ecp`. With `mcp.servers`
 * configured it first connects to them and lists their tools (docs/mcp.md; an unreachable server is logged, not
 * fatal), and closes those connections when the worker stops.
 */
export async function createPlaneWorker(options: PlaneWorkerOptions): Promise<Worker> {
  const workflowBundle = await prebundleWorkflows();
  const dataDir = options.dataDir ?? dataDirFromEnv();
  let mcp: McpDownstream | null = null;
  if (options.connectMcp !== false && Object.keys(options.runtime.config.mcp?.servers ?? {}).length > 0) {
    mcp = new McpDownstream(options.runtime, {
      dataDir,
      kept: options.kept ?? new LocalKeptStore(dataDir),
      log: options.log ?? ((line) => console.log(line)),
    });
    await mcp.start();
  }
  let worker: Worker;
  try {
    worker = await createWorker(options, workflowBundle, dataDir, mcp);
  } catch (err) {
    await mcp?.close();
    throw err;
  }
  if (mcp) {
    // The Worker has no shutdown hook: wrap run() so the downstream connections (and stdio servers' processes) end with it.
    const run = worker.run.bind(worker);
    const downstream = mcp;
    worker.run = () => run().finally(() => downstream.close());
  }
  return worker;
}

async function createWorker(
  options: PlaneWorkerOptions,
  workflowBundle: Awaited<ReturnType<typeof prebundleWorkflows>>,
  dataDir: string,
  mcp: McpDownstream | null,
): Promise<Worker> {
  const stackTraces = options.workflowStackTraces ?? workflowStackTracesFromEnv();
  return planeWorkerClass(stackTraces).create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowBundle,
    // Recorded in history on every workflow task: names the workflow code that produced it (evidence packs bind to it).
    buildId: planeBuildId(workflowBundle),
    activities: createActivities(options.runtime, options.archive ?? null, options.planeKey ?? loadOrCreatePlaneKey(dataDir), mcp),
    // Codecs run outside the workflow sandbox: the workflow bundle needs nothing for encryption.
    dataConverter: dataConverterWith(options.payloadCodec ?? payloadCodecFor({ config: options.runtime.config })),
    maxCachedWorkflows: Number(process.env.ECP_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT_MS,
    // Sinks and activity interceptors of tracing and telemetry: the bundle's workflow interceptors report through them.
    ...planeWorkerTelemetry(options.telemetry),
    ...options.workerOptions,
  });
}

/**
 * The worker of the notifier and its deliveries (task queue `ecp-notifications`; runs only where ecp.yaml configures
 * notifications). Same code and activities as the plane's worker, but few slots: a burst of events is delivered a
 * few at a time, so notifications never take the slots or the event loop attempts need (docs/kill-switch-and-notifications.md).
 */
export async function createNotificationWorker(options: PlaneWorkerOptions): Promise<Worker> {
  return createPlaneWorker({
    ...options,
    taskQueue: NOTIFICATION_TASK_QUEUE,
    // It delivers notifications only: the plane's worker holds the MCP connections.
    connectMcp: false,
    workerOptions: {
      maxConcurrentWorkflowTaskExecutions: 2,
      maxConcurrentActivityTaskExecutions: 2,
      maxConcurrentLocalActivityExecutions: 1,
      ...options.workerOptions,
    },
  });
}
