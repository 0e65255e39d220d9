/**
 * `npx tsx bench/workflowCpu.ts [--runs 300] [--history test/replay/histories/succeeded-auto.json]` — CPU the attempt
 * workflow's code costs per attempt, without a server: replays one saved auto-allowed attempt `runs` times through
 * the plane's workflow bundle (same bundle, preloaded modules, interceptors and reusable V8 context as the worker) and
 * reports process CPU time per replayed attempt. A replay runs the same workflow code over the same activations as
 * the live attempt (module instantiation, proposal validation and hashing, the record and its digest), so it
 * compares workflow-code changes A/B on a loaded machine, where the closed-loop bench's absolute figures drift.
 * Like the plane worker, it runs without the SDK's workflow stack-trace tracking unless ECP_WORKFLOW_STACK_TRACES=1
 * (worker/workflowThreads.ts), so the figure is what the live worker's workflow code costs.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker } from '@temporalio/worker';
import { idleTelemetrySinks, prebundleWorkflows } from '../workflows/bundle';
import { withoutWorkflowStackTraces } from '../audit/replay/replay';
import { workflowStackTracesFromEnv } from '../worker/workflowThreads';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    history: { type: 'string', default: 'test/replay/histories/succeeded-auto.json' },
  },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const history = JSON.parse(readFileSync(values.history!, 'utf8')) as unknown;
const ids = JSON.parse(readFileSync(new URL('../test/replay/histories/workflow-ids.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;
const workflowId = ids[values.history!.split('/').pop()!] ?? 'replay';
const stackTraces = workflowStackTracesFromEnv();
// Before the first replay worker: the hook is installed once per thread (see withoutWorkflowStackTraces).
if (!stackTraces) await withoutWorkflowStackTraces();
console.log(`workflow stack traces ${stackTraces ? 'on' : 'off'} (ECP_WORKFLOW_STACK_TRACES)`);
const workflowBundle = await prebundleWorkflows();
const sinks = idleTelemetrySinks();

async function replayAll(n: number): Promise<void> {
  const histories = Array.from({ length: n }, () => ({ workflowId, history }));
  for await (const result of Worker.runReplayHistories({ workflowBundle, sinks }, histories)) {
    if (result.error) throw result.error;
  }
}

await replayAll(20); // warm-up: bundle load, JIT
const perRound: number[] = [];
for (let r = 0; r < rounds; r++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await replayAll(runs);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const ms = (cpu.user + cpu.system) / 1000 / runs;
  perRound.push(ms);
  console.log(`round ${r + 1}: ${runs} replays, ${ms.toFixed(2)} ms CPU per attempt (process), ${(wall / runs).toFixed(2)} ms wall`);
}
perRound.sort((a, b) => a - b);
// The minimum is the round least disturbed by other load on the machine; the median for reference.
console.log(
  `min ${perRound[0]!.toFixed(2)} ms, median ${perRound[Math.floor(perRound.length / 2)]!.toFixed(2)} ms CPU per attempt (${rounds} rounds of ${runs})`,
);
