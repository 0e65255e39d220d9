/**
 * `npm run bench` — ECP against bare Temporal on the same dev server in the same run. Starts its own dev server(s),
 * demo target and worker process; writes bench/results/<date>.{json,md,svg} and latest.{json,md,svg}.
 *
 *   --quick                  small samples (≈ 2 min, in-memory server only unless --server is given)
 *   --only <scenario>        overhead | openloop | mcp | decision | notifications | pending | policy | verify (repeatable)
 *   --server memory|file|both|cluster   dev server storage (default both; quick: memory), or `npm run cluster`'s
 *                            Temporal cluster on PostgreSQL (builds the server with Go the first time)
 *   --pending <n>            attempts for the pending-scale scenario (default 10000 in-memory, 2000 file-backed; quick 300)
 *   --max-cached <n>         worker maxCachedWorkflows (default: worker/plane.ts's default)
 *   --legacy-v8              one V8 context per workflow (reuseV8Context: false); default: the SDK's (reuse)
 *   --max-old-space <MiB>    V8 heap cap for the worker processes (default 512, as `npm start`/`npm run worker`; 0 = Node's)
 *   --sqlite-pragma <p=v>    passed to the dev server (repeatable), e.g. journal_mode=wal
 *   --out <dir>              results directory (default bench/results)
 *   --profile <dir>          write a V8 CPU profile (.cpuprofile) of each worker process there (slows the run)
 *
 * The dev server runs with worker/devServerTuning.ts's settings, as `npm start`'s; ECP_DEV_SERVER_TUNING=0 runs it
 * with Temporal's defaults (the workflow-task stall, docs/performance.md).
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../worker/plane';
import { removeBenchData, startBenchEnv, type ServerMode } from './env';
import { machineInfo, sqliteFileSettings, temporalCliVersion } from './machine';
import { measurePolicyAdvice } from './policy/measure';
import { renderMarkdown } from './report/markdown';
import { renderSvg } from './report/svg';
import { SCENARIOS, type BenchResults, type ModeResults, type Scenario } from './results';
import { runDecision } from './scenarios/decision';
import { runMcp } from './scenarios/mcp';
import { runNotifications } from './scenarios/notifications';
import { runOpenLoop } from './scenarios/openLoop';
import { runOverhead } from './scenarios/overhead';
import { runPending } from './scenarios/pending';
import { exportPacks, runVerify, verifyUnavailable } from './scenarios/verify';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    server: { type: 'string' },
    pending: { type: 'string' },
    'max-cached': { type: 'string' },
    'legacy-v8': { type: 'boolean', default: false },
    'max-old-space': { type: 'string' },
    'sqlite-pragma': { type: 'string', multiple: true },
    out: { type: 'string' },
    profile: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}
const positiveInt = (name: string, v: string | undefined, fallback: number) => {
  if (v === undefined) return fallback;
  if (!/^[0-9]+$/.test(v)) fail(`--${name} must be a whole number, got "${v}"`);
  return Number(v);
};

const quick = values.quick ?? false;
const only = (values.only ?? [...SCENARIOS]) as Scenario[];
for (const s of only) if (!SCENARIOS.includes(s)) fail(`--only ${s}: unknown scenario (one of ${SCENARIOS.join(', ')})`);
const server = values.server ?? (quick ? 'memory' : 'both');
if (!['memory', 'file', 'both', 'cluster'].includes(server)) fail(`--server must be memory, file, both or cluster, got "${server}"`);
const modes: ServerMode[] = server === 'both' ? ['memory', 'file'] : [server as ServerMode];
// Full run: 10,000 pending on the in-memory server; 2,000 on the file-backed one keeps the whole run near 25 minutes
// on 2 cores (draining is bounded by replaying evicted attempts). --pending sets both.
const pendingAttempts = positiveInt('pending', values.pending, quick ? 300 : 10_000);
const pendingFor = (mode: ServerMode) => (values.pending !== undefined || quick || mode === 'memory' ? pendingAttempts : 2_000);
const maxCachedWorkflows = positiveInt(
  'max-cached',
  values['max-cached'],
  Number(process.env.ECP_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS),
);
// null = leave the SDK default (reuseV8Context: true), exactly as worker/plane.ts runs.
const reuseV8Context = values['legacy-v8'] ? false : null;
const maxOldSpaceArg = values['max-old-space'] === undefined ? 512 : positiveInt('max-old-space', values['max-old-space'], 0);
const maxOldSpaceMiB = maxOldSpaceArg === 0 ? null : maxOldSpaceArg;
const sqlitePragmas = values['sqlite-pragma'] ?? [];
for (const p of sqlitePragmas) if (!/^[a-z_]+=[A-Za-z0-9_-]+$/.test(p)) fail(`--sqlite-pragma must look like name=value, got "${p}"`);
const outDir = values.out ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results');
const latencyRuns = quick ? 10 : 200;
const concurrencies = [8, 32, 64];
// Closed-loop throughput per concurrency: quick, one block of c attempts per contender (a smoke figure); full, three
// blocks of max(100, 2c) per contender, the contenders taking turns block by block.
const throughputAttempts = (c: number) => (quick ? c : Math.max(100, 2 * c));
const throughputBlocks = quick ? 1 : 3;
// Open loop: seconds of arrivals per contender at each rate (full ≈ 2.5 min for the three rates and contenders).
const openLoopRates = [1, 5, 20];
const openLoopSeconds = (rate: number) => (quick ? ({ 1: 4, 5: 3, 20: 2 }[rate] ?? 2) : ({ 1: 20, 5: 12, 20: 10 }[rate] ?? 10));

const log = (s: string) => console.log(s);
const started = new Date();
const results: BenchResults = {
  startedAt: started.toISOString(),
  finishedAt: '',
  durationSeconds: 0,
  quick,
  argv: process.argv.slice(2),
  machine: machineInfo(),
  settings: { maxCachedWorkflows, reuseV8Context, maxOldSpaceMiB, pendingAttempts, latencyRuns, concurrencies },
  modes: [],
  errors: [],
};
log(
  `ECP benchmark${quick ? ' (quick)' : ''}: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.temporalCli}; scenarios ${only.join(', ')}`,
);

const needsServer = only.some((s) => s !== 'policy');
const verifySkip = only.includes('verify') ? verifyUnavailable() : null;
let packs: unknown[] | null = null;
for (const mode of needsServer ? modes : []) {
  log(`\n[${mode === 'cluster' ? 'Temporal cluster on PostgreSQL' : `${mode} dev server`}]`);
  const entry: ModeResults = { mode, sqlitePragmasPassed: sqlitePragmas, errors: [] };
  results.modes.push(entry);
  const env = await startBenchEnv({
    mode,
    sqlitePragmas,
    maxCachedWorkflows,
    reuseV8Context,
    maxOldSpaceMiB,
    profileDir: values.profile ?? null,
  });
  if (mode !== 'cluster') entry.devServerTuning = env.devServerTuning;
  // On a fresh machine the first dev server installs the CLI, so its version is known only now.
  if (mode !== 'cluster' && results.machine.temporalCli === 'unknown') results.machine.temporalCli = temporalCliVersion();
  try {
    const step = async (name: Scenario, fn: () => Promise<void>) => {
      if (!only.includes(name)) return;
      log(`  ${name} …`);
      const died = env.workerDeath();
      if (died) {
        entry.errors.push(`${name}: not run: the ${died}`);
        log(`  ${name} not run: the ${died}`);
        return;
      }
      try {
        await fn();
      } catch (err) {
        const cause = env.workerDeath() ? ` (the ${env.workerDeath()})` : '';
        entry.errors.push(`${name}: ${(err as Error).message}${cause}\n${(err as Error).stack ?? ''}`);
        log(`  ${name} FAILED: ${(err as Error).message}${cause}`);
      }
    };
    await step('overhead', async () => {
      entry.overhead = await runOverhead(env, { latencyRuns, concurrencies, throughputAttempts, throughputBlocks, log });
    });
    await step('openloop', async () => {
      entry.openLoop = await runOpenLoop(env, { rates: openLoopRates, seconds: openLoopSeconds, log });
    });
    await step('mcp', async () => {
      entry.mcp = await runMcp(env, { latencyRuns: quick ? 10 : 50, concurrency: 4, calls: quick ? 20 : 100, log });
    });
    await step('decision', async () => {
      entry.decision = await runDecision(env, { runs: quick ? 5 : 50 });
      log(
        `    decision → action p50: single ${entry.decision.singleApproverMs.p50.toFixed(1)} ms, quorum ${entry.decision.twoApproverQuorumMs.p50.toFixed(1)} ms`,
      );
    });
    await step('notifications', async () => {
      entry.notifications = await runNotifications(env, { block: quick ? 10 : 40, rounds: quick ? 2 : 4, log });
    });
    await step('verify', async () => {
      // Packs come from the first server mode; verification itself needs no server and is measured once, below.
      if (verifySkip || packs) return;
      packs = await exportPacks(env, quick ? 9 : 30);
      log(`    exported ${packs.length} evidence packs`);
    });
    await step('pending', async () => {
      entry.pending = await runPending(env, {
        attempts: pendingFor(mode),
        startConcurrency: 32,
        approveConcurrency: 16,
        maxCachedWorkflows,
        reuseV8Context,
        log,
      });
      log(
        `    worker peak RSS ${entry.pending.peakRssMiB} MiB; drained ${entry.pending.drainPerSecond.toFixed(1)}/s; lost ${JSON.stringify(entry.pending.lost)}`,
      );
    });
  } finally {
    // A failed teardown must not cost the figures already measured: record it and still write the results.
    try {
      await env.teardown();
      if (env.dbPath) entry.sqliteFile = sqliteFileSettings(env.dbPath);
    } catch (err) {
      entry.errors.push(`teardown: ${(err as Error).stack ?? String(err)}`);
      log(`  teardown FAILED: ${(err as Error).message}`);
    }
    removeBenchData(env);
  }
}

if (only.includes('policy')) {
  log('\n[policy advice, in-process]');
  const measured = measurePolicyAdvice([10, 1000], quick ? 1000 : 10_000);
  results.policy = measured;
  for (const f of measured.figures)
    log(
      `  ${f.policies} policies: sliced p50 ${f.slicedUs.p50.toFixed(0)} µs (mean slice ${f.meanSliceSize.toFixed(1)}), unsliced p50 ${f.unslicedUs.p50.toFixed(0)} µs`,
    );
}
if (only.includes('verify')) {
  log('\n[replay / verify]');
  try {
    results.verify = verifySkip
      ? { skipped: verifySkip }
      : packs
        ? await runVerify(packs)
        : { skipped: 'no evidence packs were exported (see errors)' };
    log(
      'skipped' in results.verify
        ? `  skipped: ${results.verify.skipped}`
        : `  ${results.verify.recordsPerSecond.toFixed(1)} records/s (${results.verify.records} packs, all passed: ${results.verify.allPassed})`,
    );
  } catch (err) {
    results.errors.push(`verify: ${(err as Error).stack ?? String(err)}`);
    log(`  verify FAILED: ${(err as Error).message}`);
  }
}

const finished = new Date();
results.finishedAt = finished.toISOString();
results.durationSeconds = (finished.getTime() - started.getTime()) / 1000;
results.errors.push(...results.modes.flatMap((m) => m.errors.map((e) => `${m.mode}: ${e.split('\n')[0]}`)));
mkdirSync(outDir, { recursive: true });
const stamp = results.startedAt.replace(/[:.]/g, '-');
const files = {
  json: `${JSON.stringify(results, null, 2)}\n`,
  md: renderMarkdown(results),
  svg: renderSvg(results),
};
for (const [ext, content] of Object.entries(files)) {
  writeFileSync(join(outDir, `${stamp}.${ext}`), content);
  copyFileSync(join(outDir, `${stamp}.${ext}`), join(outDir, `latest.${ext}`));
}
log(`\n${files.md}`);
log(`written: ${join(outDir, `${stamp}.{json,md,svg}`)} (and latest.*)${existsSync(outDir) ? '' : ''}`);
process.exit(results.errors.length > 0 ? 1 : 0);
