/**
 * The minimal reproduction of the dev server's workflow-task stall (issue 15; docs/performance.md "The workflow-task
 * stall"): N bare one-activity workflows back to back, then N spaced by a pause, on a dev server of its own (or any
 * server given by --address), and the median gap between each pair of consecutive history events.
 *
 *   npm run bench:stall                                   # in-memory dev server, ECP's start flags
 *   npm run bench:stall -- --server file                  # SQLite file
 *   npm run bench:stall -- --stock                        # Temporal's defaults: the stall
 *   npm run bench:stall -- --stock --dv history.transferProcessorMaxPollRPS=2 --pragma journal_mode=wal   # bisect
 *   npm run bench:stall -- --address 127.0.0.1:7233       # an existing server (e.g. `npm run cluster`)
 *
 * Nothing here is ECP code: a plain Temporal worker and client, so what it shows is the server's.
 */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { devServerTuningArgs } from '../worker/devServerTuning';
import { createBaselineWorker } from './baselineWorker';
import { startBenchDevServer, type BenchDevServer } from './devServer';
import { percentile } from './stats';

const TASK_QUEUE = 'ecp-bench-stall';

const { values: args } = parseArgs({
  options: {
    server: { type: 'string', default: 'memory' },
    address: { type: 'string' },
    n: { type: 'string', default: '30' },
    pause: { type: 'string', default: '150' },
    dv: { type: 'string', multiple: true, default: [] },
    pragma: { type: 'string', multiple: true, default: [] },
    stock: { type: 'boolean', default: false },
  },
});

interface Gaps {
  total: number[];
  byStep: Map<string, number[]>;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const n = Number(args.n);
  const pauseMs = Number(args.pause);
  const server = args.address ? null : await startServer();
  const address = args.address ?? server!.address;
  try {
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default' });
    const native = await NativeConnection.connect({ address });
    const worker = await createBaselineWorker(native, TASK_QUEUE);
    await worker.runUntil(async () => {
      await runSeries(client, 5, 0); // warm-up: bundle load, first polls
      const backToBack = await runSeries(client, n, 0);
      const spaced = await runSeries(client, n, pauseMs);
      console.log(`server: ${args.address ?? args.server} ${server?.args.join(' ') ?? ''}`);
      report('back to back', backToBack);
      report(`spaced ${pauseMs} ms`, spaced);
    });
    await native.close();
    await connection.close();
  } finally {
    await server?.stop();
  }
}

/** Runs n one-activity workflows one after another (pauseMs between them) and collects their event gaps. */
async function runSeries(client: Client, n: number, pauseMs: number): Promise<Gaps> {
  const gaps: Gaps = { total: [], byStep: new Map() };
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    const t0 = performance.now();
    const handle = await client.workflow.start('bareShape', {
      taskQueue: TASK_QUEUE,
      workflowId: `stall-${Date.now()}-${i}-${Math.random().toString(36).slice(2)}`,
      args: [{ shape: ['regular'], payload: { i } }],
    });
    await handle.result();
    gaps.total.push(performance.now() - t0);
    ids.push(handle.workflowId);
  }
  for (const id of ids) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const events = history.events ?? [];
    for (let i = 1; i < events.length; i++) {
      const step = `${eventName(events[i - 1]!)} → ${eventName(events[i]!)}`;
      const ms = eventMs(events[i]!) - eventMs(events[i - 1]!);
      const list = gaps.byStep.get(`${String(i).padStart(2)} ${step}`) ?? [];
      list.push(ms);
      gaps.byStep.set(`${String(i).padStart(2)} ${step}`, list);
    }
  }
  return gaps;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

function eventMs(e: HistoryEvent): number {
  const t = e.eventTime!;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

function eventName(e: HistoryEvent): string {
  // eventType is the enum number; the attribute key that is set names it.
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  return (key ?? 'event')
    .replace(/EventAttributes$/, '')
    .replace(/^workflowExecution/, 'Wf')
    .replace(/^workflowTask/, 'WT')
    .replace(/^activityTask/, 'AT');
}

function report(label: string, gaps: Gaps): void {
  const f = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `p50 ${percentile(s, 50).toFixed(1).padStart(6)} / p95 ${percentile(s, 95).toFixed(1).padStart(6)}`;
  };
  console.log(`\n${label}: client-observed ${f(gaps.total)} ms (n=${gaps.total.length})`);
  for (const [step, xs] of gaps.byStep) console.log(`  ${step.padEnd(52)} ${f(xs)}`);
}

/** The dev server under test: ECP's start flags unless --stock, plus any --dv and --pragma. */
function startServer(): Promise<BenchDevServer> {
  const flags: string[] = args.stock ? [] : devServerTuningArgs();
  for (const dv of args.dv) flags.push('--dynamic-config-value', dv);
  for (const p of args.pragma) flags.push('--sqlite-pragma', p);
  return startBenchDevServer(flags, { file: args.server === 'file' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
