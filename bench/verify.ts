/**
 * Evidence-pack verification throughput (one run): `npm run bench:verify -- [pack files…]`.
 * With no files, a dev server and the demo plane produce BENCH_VERIFY_PACKS closed attempts (default 30: a mix of
 * auto-allowed, denied and two-approver attempts) and export them first. The packs are then verified as one batch of
 * `--packs N` (default 200; the packs are cycled when fewer are given — a repeated pack costs what the first did),
 * `--rounds R` times (default 5; the median round is reported, with every round's rate) after `--warm-up-rounds W`
 * untimed batches (default 2; their rates are reported too), with replay (the full verification) and without
 * (`--no-replay` measures only that). Bundling the workflow code (once per process, seconds) and first-use costs
 * are paid before timing.
 * Prints a line per figure, then the figures as JSON on the last line (`packsPerSecond` is the full verification).
 * `--save <dir>` keeps generated packs.
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { readPack } from '../audit/pack/io';
import type { EvidencePack } from '../audit/pack/schema';
import { verifyPack, verifyPacks } from '../audit/pack/verify';
import { warmUpReplay } from '../audit/replay/replay';
import { VERIFY_THREAD_MIN_BATCH, warmUpVerifyThreads } from '../audit/pack/verifyThreads';
import { packBytes } from '../audit/pack/io';

export interface VerifyThroughput {
  packs: number;
  /** Distinct packs among them (the rest are repeats). */
  uniquePacks: number;
  replay: boolean;
  seconds: number;
  packsPerSecond: number;
  /** CPU time of this process (all threads) per pack: what verification costs when the machine is shared. */
  cpuMsPerPack: number;
  /** Mean canonical size of a pack, bytes. */
  meanPackBytes: number;
  allPassed: boolean;
  /** Packs per second of each timed round of the batch; the figures above are the median round's. */
  roundRates: number[];
  /**
   * Packs per second of each warm-up round (whole batches verified before timing, checked like the timed ones): what
   * a fresh process verifies while V8 still compiles and tiers up the code it runs.
   */
  warmUpRates: number[];
  /** Up to five failures over all rounds: round, pack (attempt ID) and the failed checks. */
  failures: string[];
}

interface Round {
  seconds: number;
  cpuMs: number;
  allPassed: boolean;
}

/** Cycles the packs up to `count` (a batch may hold a pack more than once). */
export function batchOf(packs: EvidencePack[], count: number): EvidencePack[] {
  return Array.from({ length: count }, (_, i) => packs[i % packs.length]!);
}

/**
 * Verifies every pack once as one batch (`verifyPacks`), after warming up the bundles and `warmUpRounds` untimed
 * batches, `rounds` times; returns the median round (the machine is shared: a single round of a few seconds moves
 * ±15 % with other load). The warm-up rounds are there because a fresh process is not yet at its steady rate after
 * one pass over the packs: on the 2-core machine the first two batches of 200 run ≈ 15–25 % slower than the later
 * ones, V8's background threads compiling the replay code meanwhile; a verifier of thousands of packs runs at the
 * later rate. Their rates are reported (`warmUpRates`) and their results checked like the timed rounds'.
 */
export async function measureVerifyThroughput(
  packs: EvidencePack[],
  options: { replay?: boolean; rounds?: number; warmUpRounds?: number } = {},
): Promise<VerifyThroughput> {
  if (packs.length === 0) throw new Error('no packs to verify');
  const replay = options.replay ?? true;
  await warmUpReplay();
  // First-use costs (Cedar, the replay runtime, loading the verification threads, each thread's replay worker and
  // V8's compiling of the code it runs) are not throughput: every distinct pack is verified once before timing.
  await verifyPack(packs[0]!, { replay });
  await warmUpVerifyThreads();
  await verifyPacks(batchOf(packs, Math.max(VERIFY_THREAD_MIN_BATCH, new Set(packs).size)), { replay });
  const warmUp: Round[] = [];
  const rounds: Round[] = [];
  const failures: string[] = [];
  const warmUpRounds = options.warmUpRounds ?? 0;
  for (let r = 0; r < warmUpRounds + (options.rounds ?? 1); r++) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const results = await verifyPacks(packs, { replay });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    (r < warmUpRounds ? warmUp : rounds).push({ seconds, cpuMs: (used.user + used.system) / 1000, allPassed: results.every((x) => x.ok) });
    const label = r < warmUpRounds ? `warm-up round ${r + 1}` : `round ${r - warmUpRounds + 1}`;
    for (const failed of results.filter((x) => !x.ok).slice(0, 5 - failures.length)) {
      const checks = failed.checks.filter((c) => !c.ok && !c.advisory).map((c) => `${c.name}: ${c.detail}`);
      failures.push(`${label}, ${failed.attemptId}: ${checks.join('; ').slice(0, 500)}`);
    }
  }
  const median = [...rounds].sort((a, b) => a.seconds - b.seconds)[Math.floor(rounds.length / 2)]!;
  const rateOf = (x: Round) => Math.round((packs.length / x.seconds) * 10) / 10;
  const unique = new Set(packs);
  const meanPackBytes = Math.round([...unique].reduce((n, p) => n + packBytes(p).length, 0) / unique.size);
  return {
    packs: packs.length,
    uniquePacks: unique.size,
    replay,
    seconds: median.seconds,
    packsPerSecond: packs.length / median.seconds,
    cpuMsPerPack: median.cpuMs / packs.length,
    meanPackBytes,
    allPassed: [...warmUp, ...rounds].every((x) => x.allPassed),
    roundRates: rounds.map(rateOf),
    warmUpRates: warmUp.map(rateOf),
    failures,
  };
}

const describe = (r: VerifyThroughput) =>
  `verified ${r.packs} packs (${r.uniquePacks} distinct)${r.replay ? ' with replay' : ' without replay'} in ${r.seconds.toFixed(2)} s ` +
  `(median of ${r.roundRates.length} rounds: ${r.roundRates.join(', ')} packs/s, after ${r.warmUpRates.length} warm-up rounds: ${r.warmUpRates.join(', ') || '-'}): ` +
  `${r.packsPerSecond.toFixed(1)} packs/s, ${r.cpuMsPerPack.toFixed(2)} ms CPU/pack; mean pack ${r.meanPackBytes} bytes; ${r.allPassed ? 'all PASS' : 'SOME FAILED'}`;

/** Closed attempts from a fresh demo plane, exported as packs (for runs without pack files). */
async function generatePacks(count: number): Promise<EvidencePack[]> {
  await import('../test/helpers/setup-temporal');
  const { startTestPlane } = await import('../test/helpers/plane');
  const { deploy, refund, waitForStatus } = await import('../test/helpers/attempts');
  const { exportEvidencePack } = await import('../audit/pack/export');
  const plane = await startTestPlane();
  try {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const kind = i % 3;
      if (kind === 0) ids.push((await plane.ecp.propose(refund(100 + i))).attemptId);
      else if (kind === 1) ids.push((await plane.ecp.propose(refund(50_000 + i))).attemptId);
      else {
        const { attemptId } = await plane.ecp.propose(deploy('production', 'checkout', `9.${i}.0`));
        await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
        await plane.ecp.decide(attemptId, { human: 'bob', verdict: 'approve', privateKey: plane.key('bob') });
        await plane.ecp.decide(attemptId, { human: 'erin', verdict: 'approve', privateKey: plane.key('erin') });
        ids.push(attemptId);
      }
    }
    const packs: EvidencePack[] = [];
    for (const id of ids) {
      await plane.ecp.awaitOutcome(id);
      packs.push(await exportEvidencePack(plane.ecp, id));
    }
    return packs;
  } finally {
    await plane.teardown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const onlyStructural = args.includes('--no-replay');
  const saveDir = valueOf('--save');
  const count = Number(valueOf('--packs') ?? 200);
  if (!Number.isInteger(count) || count < 1) throw new Error('--packs must be a positive integer');
  const rounds = Number(valueOf('--rounds') ?? 5);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const warmUpRounds = Number(valueOf('--warm-up-rounds') ?? 2);
  if (!Number.isInteger(warmUpRounds) || warmUpRounds < 0) throw new Error('--warm-up-rounds must be a whole number ≥ 0');
  const files = args.filter(
    (a, i) => !a.startsWith('--') && !['--save', '--packs', '--rounds', '--warm-up-rounds'].includes(args[i - 1] ?? ''),
  );
  const packs = files.length > 0 ? files.map(readPack) : await generatePacks(Number(process.env.BENCH_VERIFY_PACKS ?? 30));
  if (saveDir) {
    const { mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { writePack } = await import('../audit/pack/io');
    mkdirSync(saveDir, { recursive: true });
    for (const pack of packs) writePack(join(saveDir, `${pack.attemptId}.ecp-pack.json`), pack);
  }
  const batch = batchOf(packs, count);
  const machine = { cpus: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
  const withoutReplay = await measureVerifyThroughput(batch, { replay: false, rounds, warmUpRounds });
  console.log(describe(withoutReplay));
  for (const f of withoutReplay.failures) console.log(`  FAILED ${f}`);
  const withReplay = onlyStructural ? null : await measureVerifyThroughput(batch, { replay: true, rounds, warmUpRounds });
  if (withReplay) console.log(describe(withReplay));
  for (const f of withReplay?.failures ?? []) console.log(`  FAILED ${f}`);
  const headline = withReplay ?? withoutReplay;
  // Last line, read by bench/scenarios/verify.ts: the headline figure (full verification unless --no-replay) at the top.
  console.log(JSON.stringify({ ...headline, withoutReplay, withReplay, machine }));
  setTimeout(() => process.exit(headline.allPassed && withoutReplay.allPassed ? 0 : 1), 100).unref();
}
