/**
 * A benchmark worker process: either the real plane worker (worker/plane.ts) or the baseline workflows' worker, each
 * in its own child process so the plane worker's RSS is its own, apart from the load generator and the baselines.
 * Settings come from the parent in BENCH_WORKER (JSON); the parent asks for memory figures over IPC ({ type: 'mem' }).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { PlaneRuntime } from '../config/runtime';
import { createNotificationWorker, createPlaneWorker } from '../worker/plane';
import { createBaselineWorker } from './baselineWorker';
import { BASELINE_TASK_QUEUE } from './workflows/index';

const settingsSchema = z.strictObject({
  role: z.enum(['plane', 'baseline']),
  address: z.string().min(1),
  configPath: z.string().min(1),
  maxCachedWorkflows: z.number().int().min(0),
  /** null: the SDK default (true since 1.9), as the plane worker runs; false: the legacy one-context-per-workflow model. */
  reuseV8Context: z.boolean().nullable(),
});

export type BenchWorkerSettings = z.infer<typeof settingsSchema>;

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function main(): Promise<void> {
  const settings = settingsSchema.parse(JSON.parse(process.env.BENCH_WORKER ?? '{}'));
  // ERROR only: under load the SDK warns about every slow workflow task, which would drown the summary.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: settings.address });
  const v8 = settings.reuseV8Context === null ? {} : { reuseV8Context: settings.reuseV8Context };
  const runtime = new PlaneRuntime(settings.configPath);
  const worker =
    settings.role === 'plane'
      ? await createPlaneWorker({
          connection,
          namespace: 'default',
          runtime,
          workerOptions: { maxCachedWorkflows: settings.maxCachedWorkflows, ...v8 },
        })
      : await createBaselineWorker(connection, BASELINE_TASK_QUEUE, { maxCachedWorkflows: settings.maxCachedWorkflows, ...v8 });
  // As `npm start` runs it: the notification worker beside the plane's, in the same process (idle until a notifier runs).
  const notificationWorker =
    settings.role === 'plane' && runtime.config.notifications
      ? await createNotificationWorker({ connection, namespace: 'default', runtime, archive: null })
      : null;
  const running = Promise.all([worker.run(), notificationWorker?.run()]);
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'mem') {
      const m = process.memoryUsage();
      const sample: MemorySample = {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      };
      process.send?.({ type: 'mem', sample });
    } else if (message?.type === 'stop') {
      worker.shutdown();
      notificationWorker?.shutdown();
    }
  });
  process.send?.({ type: 'ready' });
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error('bench worker failed:', err);
  process.exit(1);
});
