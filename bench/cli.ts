/**
 * How long an `ecp` command takes, as the human at the terminal waits for it: `npm run bench:cli`.
 *
 * Each command runs as its own process (`node bin/ecp.mjs …`, what `npx ecp` runs after npm's own start-up) against
 * an in-memory dev server with a test plane (the demo's policies, directory and action types; its worker in this
 * process). Rounds interleave the commands; per command the median and the slowest wall time of the rounds. Two
 * baselines, in the same rounds:
 *  - `tsx floor`: an empty TypeScript file run the way bin/ecp.mjs runs the CLI (Node with tsx's loader): what any
 *    TypeScript command costs here before it does anything;
 *  - `Temporal floor`: a TypeScript file that connects with @temporalio/client and reads one attempt's result
 *    (describe + result, what `ecp show` asks of Temporal) and prints it: the least a command that talks to
 *    Temporal costs.
 * `ecp show` is reported against the Temporal floor, `ecp --version` against the tsx floor.
 *
 * Options: --rounds N (default 9), --bin <path to bin/ecp.mjs> (default this checkout's), --compare <another
 * checkout's bin/ecp.mjs> (its commands timed in the same rounds, to compare versions), --out <dir> (default bench/results: cli-<stamp>.{json,md} and
 * cli-latest.{json,md}).
 */
import '../test/helpers/setup-temporal';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { planeCliEnv, refundProposeArgs } from '../test/helpers/cli';
import { startTestPlane } from '../test/helpers/plane';
import { BENCH_ORDER } from './env';
import { benchRefund } from './load';
import { machineInfo } from './machine';
import { writeScriptResults } from './results';
import { percentile } from './stats';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '9' }, bin: { type: 'string' }, compare: { type: 'string' }, out: { type: 'string' } },
});
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`--rounds must be a positive integer, not ${values.rounds}`);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = resolve(values.bin ?? join(ROOT, 'bin', 'ecp.mjs'));
// Another checkout's bin/ecp.mjs, timed in the same rounds (its rows are marked "(compared)").
const COMPARE = values.compare ? resolve(values.compare) : null;
const OUT = resolve(values.out ?? join(ROOT, 'bench', 'results'));

const startedAt = new Date().toISOString();
// The test plane: the demo's policies, directory and action types, its worker in this process.
const plane = await startTestPlane();
const { ecp, dataDir } = plane;
plane.target.orders.set(BENCH_ORDER, { total: 1_000_000_000, refunded: 0, currency: 'EUR', customer: 'Bench' });
try {
  const closed = (await ecp.propose(benchRefund(100, 'cli'))).attemptId;
  await ecp.awaitOutcome(closed);
  // One attempt awaiting alice per round, for `ecp approve`; they stay listed for `ecp pending --as alice`.
  const pending: string[] = [];
  for (let i = 0; i < ROUNDS * (COMPARE ? 2 : 1); i++) pending.push((await ecp.propose(benchRefund(6_000, 'cli'))).attemptId);
  for (const id of pending) while ((await ecp.getRecord(id)).status !== 'AWAITING_DECISION') await new Promise((r) => setTimeout(r, 20));

  // The floors live in the run's data dir, resolving packages from this checkout's node_modules.
  const floorDir = join(dataDir, 'floors');
  mkdirSync(floorDir);
  symlinkSync(join(ROOT, 'node_modules'), join(dataDir, 'node_modules'), 'dir');
  const tsxFloor = join(floorDir, 'tsxFloor.mts');
  writeFileSync(tsxFloor, 'export {};\n');
  const temporalFloor = join(floorDir, 'temporalFloor.mts');
  writeFileSync(
    temporalFloor,
    `import { Client, Connection } from '@temporalio/client';
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
const handle = new Client({ connection }).workflow.getHandle(process.argv[2]!);
await handle.describe();
console.log(JSON.stringify(await handle.result()).length);
await connection.close();
`,
  );

  const cliEnv = { ...process.env, ...planeCliEnv(plane), ECP_KEYS_DIR: plane.keysDir, NO_COLOR: '1' };
  const run = (args: string[]) =>
    new Promise<number>((done, fail) => {
      const t0 = performance.now();
      execFile(process.execPath, args, { env: cliEnv, cwd: ROOT }, (err, _stdout, stderr) => {
        if (err) return fail(new Error(`${args.join(' ')} failed: ${stderr || err.message}`));
        done(performance.now() - t0);
      });
    });

  type Command = { name: string; args: (round: number) => string[] };
  const ecpCommand = (name: string, args: (round: number) => string[]): Command => ({ name, args });
  const ecpCommands = (bin: string, label: string, approving: (round: number) => string): Command[] =>
    [
      ecpCommand('ecp --version', () => ['--version']),
      ecpCommand('ecp show <attempt>', () => ['show', closed]),
      ecpCommand('ecp pending --as alice', () => ['pending', '--as', 'alice']),
      ecpCommand('ecp propose (auto-allowed refund)', (r) =>
        refundProposeArgs({ order: BENCH_ORDER, amount: 100, reason: `bench ${label} ${r}`, justification: 'bench' }),
      ),
      ecpCommand('ecp approve <attempt> --as alice', (r) => ['approve', approving(r), '--as', 'alice']),
    ].map((c) => ({ name: `${c.name}${label}`, args: (r) => [bin, ...c.args(r)] }));
  const commands: Command[] = [
    { name: 'tsx floor', args: () => ['--import', 'tsx', tsxFloor] },
    { name: 'Temporal floor', args: () => ['--import', 'tsx', temporalFloor, closed] },
    ...ecpCommands(BIN, '', (r) => pending[r]!),
    ...(COMPARE ? ecpCommands(COMPARE, ' (compared)', (r) => pending[ROUNDS + r]!) : []),
  ];

  // One untimed pass of what changes nothing: tsx's transform cache and the OS file cache are warm in every timed round.
  for (const c of commands) if (!/propose|approve/.test(c.name)) await run(c.args(0));
  const times: Record<string, number[]> = Object.fromEntries(commands.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of commands) times[c.name]!.push(await run(c.args(round)));
  }

  const round1 = (x: number) => Math.round(x * 10) / 10;
  const rows = commands.map((c) => {
    const ms = [...times[c.name]!].sort((a, b) => a - b);
    return { command: c.name, medianMs: round1(percentile(ms, 50)), maxMs: round1(ms.at(-1)!), samplesMs: times[c.name]!.map(round1) };
  });
  const median = (name: string) => rows.find((r) => r.command === name)!.medianMs;
  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const ratios = {
    showVsTemporalFloor: ratio(median('ecp show <attempt>'), median('Temporal floor')),
    versionVsTsxFloor: ratio(median('ecp --version'), median('tsx floor')),
  };
  const results = { startedAt, machine: machineInfo(), bin: BIN, compared: COMPARE, rounds: ROUNDS, rows, ratios };
  const md = [
    `## ecp command times — ${startedAt}`,
    '',
    `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}. ${ROUNDS} interleaved rounds, each command its own process (\`node ${BIN.replace(ROOT, '')} …\`, without npx's own start-up), in-memory dev server, test plane (the demo's policies and directory). Command: \`npm run bench:cli\`.`,
    '',
    ...(COMPARE ? [`"(compared)": the same commands of ${COMPARE}, in the same rounds.`, ''] : []),
    '| command | median ms | slowest ms |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.command} | ${r.medianMs} | ${r.maxMs} |`),
    '',
    `\`ecp show\` ÷ Temporal floor ${ratios.showVsTemporalFloor}×; \`ecp --version\` ÷ tsx floor ${ratios.versionVsTsxFloor}×.`,
    '',
  ].join('\n');
  writeScriptResults(OUT, 'cli', startedAt, results, md);
  console.log(md);
} finally {
  // Also when a command fails: no dev server or worker is left running.
  await plane.teardown();
}
