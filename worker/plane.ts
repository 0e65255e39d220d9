import type { KeyObject } from 'node:crypto';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { NOTIFICATION_TASK_QUEUE, TASK_QUEUE } from '../common';
import { createActivities } from '../activities';
import type { ArchiveBinding } from '../activities/archive';
import type { PlaneRuntime } from '../config/runtime';
import { planeBuildId, prebundleWorkflows } from '../workflows/bundle';
import { loadOrCreatePlaneKey } from '../client/listingSeal';
import { dataDirFromEnv } from '../config/dataDir';
import type { AesGcmPayloadCodec } from '../codec/aesGcm';
import { dataConverterWith, payloadCodecFor } from '../codec/dataConverter';

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
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * Workflows kept in worker memory between tasks. Attempts awaiting a decision sit idle for hours; keeping them cached
 * buys nothing, so memory is bounded by this number, not by the backlog (an evicted attempt replays on its next task).
 * ECP_MAX_CACHED_WORKFLOWS overrides.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

/** A worker that runs `executionAttempt` workflows and the plane's activities on task queue `ecp`. */
export async function createPlaneWorker(options: PlaneWorkerOptions): Promise<Worker> {
  const workflowBundle = await prebundleWorkflows();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowBundle,
    // Recorded in history on every workflow task: names the workflow code that produced it (evidence packs bind to it).
    buildId: planeBuildId(workflowBundle),
    activities: createActivities(options.runtime, options.archive ?? null, options.planeKey ?? loadOrCreatePlaneKey(dataDirFromEnv())),
    // Codecs run outside the workflow sandbox: the workflow bundle needs nothing for encryption.
    dataConverter: dataConverterWith(options.payloadCodec ?? payloadCodecFor({ config: options.runtime.config })),
    maxCachedWorkflows: Number(process.env.ECP_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS),
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
    workerOptions: {
      maxConcurrentWorkflowTaskExecutions: 2,
      maxConcurrentActivityTaskExecutions: 2,
      maxConcurrentLocalActivityExecutions: 1,
      ...options.workerOptions,
    },
  });
}
