import proto from '@temporalio/proto';
import type { BenchEnv } from '../env';
import { benchKey, benchRefund, sleep } from '../load';
import { summarize, type Summary } from '../stats';
import { BASELINE_TASK_QUEUE, type ActivityKind } from '../workflows/index';
import type { Contender } from './overhead';

const { EventType } = proto.temporal.api.enums.v1;
const CONTENDERS: readonly Contender[] = ['ecp', 'bareShape', 'ungoverned'];

/** One arrival rate: every contender's latency at that rate, measured from each arrival's scheduled time. */
export interface OpenLoopPoint {
  ratePerSecond: number;
  /** Arrivals per contender at this rate (split over two blocks, see `runOpenLoop`). */
  arrivals: number;
  latencyMs: Record<Contender, Summary>;
  /** Arrivals that failed (not counted in the latency), per contender. */
  failures: Record<Contender, number>;
  /** ECP ÷ baseline at p50 / p95 / p99 (above 1 means ECP is slower). */
  ratios: Record<'vsBare' | 'vsUngoverned', { p50: number; p95: number; p99: number }>;
}

export interface OpenLoopResult {
  /** How arrivals are spaced: evenly, 1/rate apart (a fixed schedule; no Poisson bursts). */
  arrivals: 'evenly spaced';
  ecpShape: ActivityKind[];
  points: OpenLoopPoint[];
}

/**
 * Scenario 1b, open loop: the latency an agent sees when attempts arrive at a fixed rate whatever the plane's speed
 * (unlike the closed loop, where the next attempt waits for the last). For each rate, each contender — an auto-allowed
 * ECP attempt, (a) the bare same-shape workflow, (b) the ungoverned one — gets `seconds(rate) × rate` arrivals, evenly
 * spaced, in two blocks with the contenders' order reversed in the second, so load drift hits all three alike.
 * Latency runs from the arrival's *scheduled* time to the final result, so a late start (the load generator
 * falling behind) counts against the contender instead of hiding (no coordinated omission).
 */
export async function runOpenLoop(
  env: BenchEnv,
  options: { rates: number[]; seconds: (rate: number) => number; log: (s: string) => void },
): Promise<OpenLoopResult> {
  const ecpRun = async () => {
    const { attemptId } = await env.ecp.propose(benchRefund(100, 'open'));
    const record = await env.ecp.awaitOutcome(attemptId);
    if (record.status !== 'SUCCEEDED') throw new Error(`auto-allowed attempt ${attemptId} ended ${record.status}`);
    return attemptId;
  };
  let sampleId = '';
  for (let i = 0; i < 3; i++) sampleId = await ecpRun();
  const shape = await shapeOf(env, sampleId);
  const runs: Record<Contender, () => Promise<unknown>> = {
    ecp: ecpRun,
    bareShape: () =>
      env.client.workflow.execute('bareShape', {
        workflowId: benchKey('open-bare'),
        taskQueue: BASELINE_TASK_QUEUE,
        args: [{ shape, payload: { orderId: 'x', amount: 100 } }],
      }),
    ungoverned: () => {
      const workflowId = benchKey('open-ungoverned');
      return env.client.workflow.execute('ungoverned', {
        workflowId,
        taskQueue: BASELINE_TASK_QUEUE,
        args: [
          {
            url: `${env.targetUrl}/refunds`,
            token: env.targetToken,
            idempotencyKey: workflowId,
            body: { orderId: 'order-bench', amount: 100, reason: 'bench' },
          },
        ],
      });
    },
  };
  for (const c of ['bareShape', 'ungoverned'] as const) for (let i = 0; i < 3; i++) await runs[c]();

  const points: OpenLoopPoint[] = [];
  for (const rate of options.rates) {
    const arrivals = Math.max(4, Math.round(options.seconds(rate) * rate));
    const samples: Record<Contender, number[]> = { ecp: [], bareShape: [], ungoverned: [] };
    const failures: Record<Contender, number> = { ecp: 0, bareShape: 0, ungoverned: 0 };
    const firstHalf = Math.ceil(arrivals / 2);
    for (const [order, count] of [
      [CONTENDERS, firstHalf],
      [[...CONTENDERS].reverse(), arrivals - firstHalf],
    ] as const) {
      for (const c of order) {
        const block = await openLoop(rate, count, runs[c]);
        samples[c].push(...block.latencies);
        failures[c] += block.failures;
      }
    }
    const latencyMs = Object.fromEntries(CONTENDERS.map((c) => [c, summarize(samples[c])])) as Record<Contender, Summary>;
    const r = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const vs = (base: Contender) => ({
      p50: r(latencyMs.ecp.p50, latencyMs[base].p50),
      p95: r(latencyMs.ecp.p95, latencyMs[base].p95),
      p99: r(latencyMs.ecp.p99, latencyMs[base].p99),
    });
    points.push({
      ratePerSecond: rate,
      arrivals,
      latencyMs,
      failures,
      ratios: { vsBare: vs('bareShape'), vsUngoverned: vs('ungoverned') },
    });
    const f = (c: Contender) => `${latencyMs[c].p50.toFixed(1)}/${latencyMs[c].p95.toFixed(1)}/${latencyMs[c].p99.toFixed(1)}`;
    const failed = CONTENDERS.reduce((n, c) => n + failures[c], 0);
    options.log(
      `    ${rate}/s × ${arrivals}: p50/p95/p99 ms ecp ${f('ecp')}, bare ${f('bareShape')}, ungoverned ${f('ungoverned')}${failed ? ` (${failed} failed)` : ''}`,
    );
  }
  return { arrivals: 'evenly spaced', ecpShape: shape, points };
}

/** Starts `count` calls of `fn`, one every 1/rate s on a fixed schedule, and waits for all; latency from schedule. */
async function openLoop(rate: number, count: number, fn: () => Promise<unknown>): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      fn().then(
        () => void latencies.push(performance.now() - due),
        () => void failures++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, failures };
}

/** The activity kinds an attempt ran, in order, from its history (what baseline (a) then runs). */
async function shapeOf(env: BenchEnv, workflowId: string): Promise<ActivityKind[]> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const shape: ActivityKind[] = [];
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) shape.push('regular');
    if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      shape.push('local');
  }
  return shape;
}
