import type { BenchEnv } from '../env';
import { benchRefund, runConcurrent, sleep } from '../load';
import { summarize, type Summary } from '../stats';
import type { MemorySample } from '../worker-process';

export interface MemoryPoint extends MemorySample {
  /** Seconds since the scenario started. */
  t: number;
  phase: 'start' | 'waiting' | 'list' | 'drain' | 'done';
}

export interface PendingResult {
  attempts: number;
  maxCachedWorkflows: number;
  reuseV8Context: boolean | null;
  /** Proposals accepted per second (propose() returned), at `startConcurrency` in flight. */
  startPerSecond: number;
  startConcurrency: number;
  /** Seconds until every attempt was AWAITING_DECISION (visibility count). */
  allWaitingAfterSeconds: number;
  /** `listPending` (the `ecp pending` call, first 500, soonest deadline first) at this backlog, ms. */
  listPendingMs: Summary;
  /** `listPending` for one human (alice, finance) — the approver's view. */
  listPendingForHumanMs: Summary;
  /** Visibility count of waiting attempts, ms. */
  countMs: Summary;
  /** Approvals sent per second, and attempts reaching SUCCEEDED per second from the first approval. */
  approvePerSecond: number;
  drainPerSecond: number;
  drainSeconds: number;
  lost: { notSucceeded: number; missingEffects: number; duplicateEffects: number };
  memory: MemoryPoint[];
  peakRssMiB: number;
  peakHeapUsedMiB: number;
}

const count = async (env: BenchEnv, query: string) =>
  Number((await env.client.workflowService.countWorkflowExecutions({ namespace: 'default', query })).count);

/** Scenario 3: N attempts awaiting a decision — start rate, worker memory over time, list latency, approve all, nothing lost. */
export async function runPending(
  env: BenchEnv,
  options: {
    attempts: number;
    startConcurrency: number;
    approveConcurrency: number;
    maxCachedWorkflows: number;
    reuseV8Context: boolean | null;
    log: (s: string) => void;
  },
): Promise<PendingResult> {
  const t0 = performance.now();
  const memory: MemoryPoint[] = [];
  let phase: MemoryPoint['phase'] = 'start';
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        memory.push({ t: (performance.now() - t0) / 1000, phase, ...(await env.workerMemory()) });
      } catch {
        // The worker is gone or busy beyond the timeout; the scenario itself reports what failed.
      }
      await sleep(1000);
    }
  })();
  try {
    return await measurePending(env, options, t0, memory, (p) => (phase = p));
  } finally {
    sampling = false;
    await sampler;
  }
}

async function measurePending(
  env: BenchEnv,
  options: Parameters<typeof runPending>[1],
  t0: number,
  memory: MemoryPoint[],
  setPhase: (p: MemoryPoint['phase']) => void,
): Promise<PendingResult> {
  // Only this scenario's attempts: earlier scenarios' attempts may still change status in (eventually consistent)
  // visibility while this one runs, so counting all attempts and subtracting a baseline is not exact.
  const since = new Date().toISOString();
  const ours = (status: string) => `EcpStatus = "${status}" AND StartTime >= "${since}"`;
  const effectsBefore = env.target.effects.length;

  const ids: string[] = new Array(options.attempts);
  const startMs = await runConcurrent(options.attempts, options.startConcurrency, async (i) => {
    ids[i] = (await env.ecp.propose(benchRefund(7_000 + (i % 1000), 'pending'))).attemptId;
  });
  options.log(`    started ${options.attempts} in ${(startMs / 1000).toFixed(1)} s`);
  setPhase('waiting');
  while ((await count(env, ours('AWAITING_DECISION'))) < options.attempts) {
    if (performance.now() - t0 > 3_600_000) throw new Error('attempts did not all reach AWAITING_DECISION within an hour');
    await sleep(250);
  }
  const allWaitingAfterSeconds = (performance.now() - t0) / 1000;

  setPhase('list');
  const time = async (fn: () => Promise<unknown>, n: number) => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await fn();
      xs.push(performance.now() - s);
    }
    return summarize(xs);
  };
  const listPendingMs = await time(() => env.ecp.listPending({ limit: 500 }), 5);
  const listPendingForHumanMs = await time(() => env.ecp.listPending({ human: 'alice', limit: 500 }), 5);
  const countMs = await time(() => count(env, ours('AWAITING_DECISION')), 5);
  options.log(`    listPending at ${options.attempts} waiting: p50 ${listPendingMs.p50.toFixed(0)} ms`);

  setPhase('drain');
  const drainStart = performance.now();
  const alice = env.key('alice');
  const approveMs = await runConcurrent(options.attempts, options.approveConcurrency, async (i) => {
    const result = await env.ecp.decide(ids[i]!, { human: 'alice', verdict: 'approve', privateKey: alice });
    if (!result.accepted) throw new Error(`approval of ${ids[i]} refused: ${result.message}`);
  });
  while ((await count(env, ours('SUCCEEDED'))) < options.attempts) {
    if (performance.now() - drainStart > 3_600_000) break;
    await sleep(250);
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;
  setPhase('done');
  await sleep(1000);

  const succeeded = await count(env, ours('SUCCEEDED'));
  const keys = env.target.effects.slice(effectsBefore).map((e) => e.idempotencyKey);
  const keySet = new Set(keys);
  const mib = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
  return {
    attempts: options.attempts,
    maxCachedWorkflows: options.maxCachedWorkflows,
    reuseV8Context: options.reuseV8Context,
    startPerSecond: options.attempts / (startMs / 1000),
    startConcurrency: options.startConcurrency,
    allWaitingAfterSeconds,
    listPendingMs,
    listPendingForHumanMs,
    countMs,
    approvePerSecond: options.attempts / (approveMs / 1000),
    drainPerSecond: options.attempts / drainSeconds,
    drainSeconds,
    lost: {
      notSucceeded: options.attempts - succeeded,
      missingEffects: ids.filter((id) => !keySet.has(id)).length,
      duplicateEffects: keys.length - keySet.size,
    },
    memory,
    peakRssMiB: mib(Math.max(...memory.map((m) => m.rss))),
    peakHeapUsedMiB: mib(Math.max(...memory.map((m) => m.heapUsed))),
  };
}
