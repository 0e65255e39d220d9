import type { KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../common';
import { createActivities } from '../activities';
import type { ArchiveBinding } from '../activities/archive';
import type { PlaneRuntime } from '../config/runtime';
import { planeBuildId } from './codeIdentity';
import { loadOrCreatePlaneKey } from '../client/listingSeal';
import { dataDirFromEnv } from './options';
import type { AesGcmPayloadCodec } from '../codec/aesGcm';
import { dataConverterWith, payloadCodecFor } from '../codec/dataConverter';

export const WORKFLOWS_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflows', 'index.ts');

type WorkflowBundle = Awaited<ReturnType<typeof bundleWorkflowCode>>;
let cachedBundle: Promise<WorkflowBundle> | undefined;
const WORKFLOWS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflows');
/**
 * Modules every workflow of a worker shares (the SDK's `preloadModules`): stateless libraries, evaluated once per
 * worker instead of once per workflow. See workflows/sharedCrypto.ts and workflows/sharedZod.ts.
 */
export function sharedWorkflowModules(): string[] {
  const require = createRequire(import.meta.url);
  return [
    require.resolve(join(WORKFLOWS_DIR, 'sharedCrypto.ts')),
    require.resolve(join(WORKFLOWS_DIR, 'sharedZod.ts')),
    '@noble/ed25519',
    '@noble/hashes/sha2.js',
    '@noble/hashes/utils.js',
  ];
}

/** Bundles the workflow code once per process (webpack is slow; every worker of the process shares it). */
export function prebundleWorkflows(): Promise<WorkflowBundle> {
  const require = createRequire(import.meta.url);
  cachedBundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_PATH),
    preloadModules: sharedWorkflowModules(),
    logger: quietLogger,
    // webpack names modules relative to its context (default: the process's cwd); pin it to the package root so the
    // bundle — and so the code identity in build IDs and evidence packs — does not depend on where ecp was started.
    webpackConfigHook: (config) => ({ ...config, context: join(WORKFLOWS_DIR, '..') }),
  });
  return cachedBundle;
}

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

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};
