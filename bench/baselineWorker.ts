import { createRequire } from 'node:module';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createBaselineActivities } from './workflows/activities';

/**
 * A worker of the baseline workflows (bench/workflows/index.ts) and their activities on `taskQueue`, in the default
 * namespace: the bench's baseline worker process, bench:stall and bench:listing. `options` adds worker settings.
 */
export async function createBaselineWorker(
  connection: NativeConnection,
  taskQueue: string,
  options: Omit<Partial<WorkerOptions>, 'connection' | 'taskQueue' | 'workflowBundle' | 'activities'> = {},
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: createRequire(import.meta.url).resolve('./workflows/index.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    }),
    activities: createBaselineActivities(),
    ...options,
  });
}
