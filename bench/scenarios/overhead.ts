import proto from '@temporalio/proto';
import type { BenchEnv } from '../env';
import { formatSegments, segmentsOf, type CallSegments, type TimedCall } from '../historySegments';
import { benchKey, benchRefund, runConcurrent } from '../load';
import { cpuWindow, type CpuPerUnit } from '../processCpu';
import { summarize, type Summary } from '../stats';
import { BASELINE_TASK_QUEUE, LISTING_VALUES, type ActivityKind, type GovernedFloorInput } from '../workflows/index';
import { BENCH_ORDER } from '../env';
import { actionTypeKey, agentKey, proposalHashKey, statusKey } from '../../common/searchAttributes';

const { EventType } = proto.temporal.api.enums.v1;

/** The contenders of the overhead and open-loop scenarios: the ECP attempt, baselines (a) and (b). */
export type Contender = 'ecp' | 'bareShape' | 'ungoverned';
/** The overhead scenario's contenders: those and (c), the governed floor (bench/workflows/index.ts `governedFloor`). */
export type OverheadContender = Contender | 'governedFloor';
/** One figure per contender; (c)'s is absent from results recorded before 2026-12-01. */
export type ByContender<T> = Record<Contender, T> & { governedFloor?: T };

export interface ThroughputPoint {
  concurrency: number;
  /** Attempts over all blocks. */
  attempts: number;
  /** Seconds over all blocks. */
  seconds: number;
  /** attempts ÷ seconds over all blocks. */
  perSecond: number;
  /** The rate of each block, in the order run (contenders alternate block by block). */
  blockRates: number[];
  /** CPU ms per attempt by process over this point (Linux only; null elsewhere). */
  cpuMsPerAttempt: CpuPerUnit | null;
}

export interface OverheadResult {
  /** Activity kinds the ECP attempt ran, in order, read from its history: baseline (a) runs exactly these. */
  ecpShape: ActivityKind[];
  /** History event counts by type for one run of each contender (workflow tasks, activities, markers, upserts). */
  histories: ByContender<{ events: number; byType: Record<string, number> }>;
  latencyMs: ByContender<Summary>;
  /** Where the c=1 runs' time goes, by contender (see `CallSegments`). Absent from results recorded before it was. */
  segmentsMs?: ByContender<CallSegments>;
  throughput: ByContender<ThroughputPoint[]>;
  ratios: {
    latencyP50VsBare: number;
    latencyP50VsUngoverned: number;
    latencyP95VsBare: number;
    latencyP95VsUngoverned: number;
    /** Per concurrency: baseline throughput / ECP throughput (> 1 means ECP is slower). */
    throughputVsBare: Record<number, number>;
    throughputVsUngoverned: Record<number, number>;
    /** ECP ÷ (c) p50 at c=1, and per concurrency (c)'s throughput ÷ ECP's: ECP's own work on top of the floor. */
    latencyP50VsFloor?: number;
    throughputVsFloor?: Record<number, number>;
  };
}

async function historyOf(env: BenchEnv, workflowId: string) {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const byType: Record<string, number> = {};
  const shape: ActivityKind[] = [];
  for (const e of events) {
    const name = String(EventType[e.eventType ?? 0] ?? e.eventType).replace(/^EVENT_TYPE_/, '');
    byType[name] = (byType[name] ?? 0) + 1;
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) shape.push('regular');
    if (e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      shape.push('local');
  }
  return { events: events.length, byType, shape };
}

/** Per-attempt CPU over equal-sized blocks: the mean of the blocks' figures (null if any block has none). */
function meanCpu(blocks: (CpuPerUnit | null)[]): CpuPerUnit | null {
  if (blocks.length === 0 || blocks.some((b) => b === null)) return null;
  const out: CpuPerUnit = { total: 0 };
  for (const role of Object.keys(blocks[0]!) as (keyof CpuPerUnit)[]) {
    out[role] = Math.round((blocks.reduce((s, b) => s + (b![role] ?? 0), 0) / blocks.length) * 10) / 10;
  }
  return out;
}

/**
 * Scenario 1: an auto-allowed ECP attempt against baseline (a) bare same-shape, (b) ungoverned and (c) the governed
 * floor, same server and run.
 */
export async function runOverhead(
  env: BenchEnv,
  options: {
    latencyRuns: number;
    concurrencies: number[];
    /** Closed-loop attempts per block at concurrency c. */
    throughputAttempts: (c: number) => number;
    /** Blocks per contender at each concurrency; the contenders take turns block by block. */
    throughputBlocks: number;
    log: (s: string) => void;
  },
): Promise<OverheadResult> {
  const ecpRun = async () => {
    const { attemptId } = await env.ecp.propose(benchRefund(100, 'auto'));
    const record = await env.ecp.awaitOutcome(attemptId);
    if (record.status !== 'SUCCEEDED') throw new Error(`auto-allowed attempt ${attemptId} ended ${record.status}`);
    return attemptId;
  };
  // Warm up the plane (workflow bundle, connections) and learn the attempt's run-time shape from its history.
  let sampleId = '';
  for (let i = 0; i < 5; i++) sampleId = await ecpRun();
  const ecpHistory = await historyOf(env, sampleId);
  const shape = ecpHistory.shape;

  const bareRun = async () => {
    const workflowId = benchKey('bare');
    await env.client.workflow.execute('bareShape', {
      workflowId,
      taskQueue: BASELINE_TASK_QUEUE,
      args: [{ shape, payload: { orderId: 'x', amount: 100 } }],
    });
    return workflowId;
  };
  const ungovernedRun = async () => {
    const workflowId = benchKey('ungoverned');
    await env.client.workflow.execute('ungoverned', {
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
    return workflowId;
  };
  const floorRun = async () => {
    const workflowId = benchKey('floor');
    const refund = benchRefund(100, 'floor');
    const input: GovernedFloorInput = {
      shape,
      token: env.targetToken,
      factsUrl: `${env.targetUrl}/orders/${BENCH_ORDER}`,
      actionUrl: `${env.targetUrl}/refunds`,
      idempotencyKey: workflowId,
      body: refund.parameters as Record<string, unknown>,
    };
    // Started as the client library starts an attempt: its memo and four search attributes (a hash of the real length).
    await env.client.workflow.execute('governedFloor', {
      workflowId,
      taskQueue: BASELINE_TASK_QUEUE,
      args: [input],
      memo: { resource: refund.resource },
      typedSearchAttributes: [
        { key: statusKey, value: 'PROPOSED' },
        { key: agentKey, value: refund.agent },
        { key: actionTypeKey, value: refund.actionType },
        { key: proposalHashKey, value: LISTING_VALUES.proposalHash },
      ],
    });
    return workflowId;
  };
  const runs: Record<OverheadContender, () => Promise<string>> = {
    ecp: ecpRun,
    bareShape: bareRun,
    ungoverned: ungovernedRun,
    governedFloor: floorRun,
  };
  const histories = { ecp: { events: ecpHistory.events, byType: ecpHistory.byType } } as Record<
    OverheadContender,
    { events: number; byType: Record<string, number> }
  >;
  for (const c of ['bareShape', 'ungoverned', 'governedFloor'] as const) {
    let id = '';
    for (let i = 0; i < 5; i++) id = await runs[c]();
    const h = await historyOf(env, id);
    histories[c] = { events: h.events, byType: h.byType };
  }

  const latencyMs = {} as Record<OverheadContender, Summary>;
  const throughput = {} as Record<OverheadContender, ThroughputPoint[]>;
  const contenders = ['ecp', 'bareShape', 'ungoverned', 'governedFloor'] as const;
  // Interleave contenders run by run so drifting machine load hits all alike.
  const samples: Record<OverheadContender, number[]> = { ecp: [], bareShape: [], ungoverned: [], governedFloor: [] };
  // The wall clock too (history event times are wall-clock times), for where the time goes.
  const timed: Record<OverheadContender, TimedCall[]> = { ecp: [], bareShape: [], ungoverned: [], governedFloor: [] };
  for (let i = 0; i < options.latencyRuns; i++) {
    for (const c of contenders) {
      const sent = Date.now();
      const t0 = performance.now();
      const attemptId = await runs[c]();
      samples[c].push(performance.now() - t0);
      timed[c].push({ attemptId, sent, answered: Date.now() });
    }
  }
  for (const c of contenders) latencyMs[c] = summarize(samples[c]);
  options.log(
    `    latency c=1 p50: ecp ${latencyMs.ecp.p50.toFixed(1)} ms, bare ${latencyMs.bareShape.p50.toFixed(1)} ms, ungoverned ${latencyMs.ungoverned.p50.toFixed(1)} ms, ` +
      `governed floor ${latencyMs.governedFloor.p50.toFixed(1)} ms`,
  );
  const segmentsMs = {} as Record<OverheadContender, CallSegments>;
  for (const c of contenders) segmentsMs[c] = await segmentsOf(env.client, timed[c]);
  options.log(
    `    segments ms (to started / first task / to activity / activity / closing / to caller): ecp ${formatSegments(segmentsMs.ecp)}; bare ${formatSegments(segmentsMs.bareShape)}; ungoverned ${formatSegments(segmentsMs.ungoverned)}; ` +
      `governed floor ${formatSegments(segmentsMs.governedFloor)}`,
  );

  for (const concurrency of options.concurrencies) {
    // Block by block, each contender's turn rotating, so a stretch of extra load on the (shared) machine lands on all
    // contenders alike instead of on whichever ran its one long block then.
    const blocks = new Map<OverheadContender, { ms: number; attempts: number; rates: number[]; cpu: (CpuPerUnit | null)[] }>(
      contenders.map((c) => [c, { ms: 0, attempts: 0, rates: [], cpu: [] }]),
    );
    for (let b = 0; b < options.throughputBlocks; b++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(b + k) % contenders.length]!;
        const attempts = options.throughputAttempts(concurrency);
        const cpu = cpuWindow(env.pids);
        const ms = await runConcurrent(attempts, concurrency, async () => void (await runs[c]()));
        const block = blocks.get(c)!;
        block.cpu.push(cpu(attempts));
        block.ms += ms;
        block.attempts += attempts;
        block.rates.push(Math.round((attempts / (ms / 1000)) * 10) / 10);
      }
    }
    for (const c of contenders) {
      const { ms, attempts, rates, cpu } = blocks.get(c)!;
      (throughput[c] ??= []).push({
        concurrency,
        attempts,
        seconds: ms / 1000,
        perSecond: attempts / (ms / 1000),
        blockRates: rates,
        cpuMsPerAttempt: meanCpu(cpu),
      });
    }
    const at = (c: OverheadContender) => throughput[c].find((p) => p.concurrency === concurrency)!.perSecond.toFixed(1);
    const spread = (c: OverheadContender) => throughput[c].find((p) => p.concurrency === concurrency)!.blockRates.join(' ');
    options.log(
      `    throughput c=${concurrency}: ecp ${at('ecp')}/s (blocks ${spread('ecp')}), bare ${at('bareShape')}/s (${spread('bareShape')}), ` +
        `ungoverned ${at('ungoverned')}/s (${spread('ungoverned')}), governed floor ${at('governedFloor')}/s (${spread('governedFloor')})`,
    );
    const cpuOf = (c: OverheadContender) => {
      const cpu = throughput[c].find((p) => p.concurrency === concurrency)!.cpuMsPerAttempt;
      return cpu
        ? Object.entries(cpu)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'n/a';
    };
    for (const c of ['ecp', 'bareShape', 'governedFloor'] as const) options.log(`      CPU ms per attempt, ${c}: ${cpuOf(c)}`);
  }
  const tp = (c: OverheadContender, n: number) => throughput[c].find((p) => p.concurrency === n)!.perSecond;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    ecpShape: shape,
    histories,
    latencyMs,
    segmentsMs,
    throughput,
    ratios: {
      latencyP50VsBare: r(latencyMs.ecp.p50 / latencyMs.bareShape.p50),
      latencyP50VsUngoverned: r(latencyMs.ecp.p50 / latencyMs.ungoverned.p50),
      latencyP95VsBare: r(latencyMs.ecp.p95 / latencyMs.bareShape.p95),
      latencyP95VsUngoverned: r(latencyMs.ecp.p95 / latencyMs.ungoverned.p95),
      throughputVsBare: Object.fromEntries(options.concurrencies.map((n) => [n, r(tp('bareShape', n) / tp('ecp', n))])),
      throughputVsUngoverned: Object.fromEntries(options.concurrencies.map((n) => [n, r(tp('ungoverned', n) / tp('ecp', n))])),
      latencyP50VsFloor: r(latencyMs.ecp.p50 / latencyMs.governedFloor.p50),
      throughputVsFloor: Object.fromEntries(options.concurrencies.map((n) => [n, r(tp('governedFloor', n) / tp('ecp', n))])),
    },
  };
}
