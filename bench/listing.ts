/**
 * What the listing's search attributes cost (issue 15; docs/performance.md): the auto-allowed attempt's run-time shape
 * (a local activity, then a regular one, as baseline (a)) as a plain Temporal workflow in three variants, on a dev server
 * of its own with ECP's search attributes and start flags, closed loop, the variants taking turns in random order:
 *
 * - `none`: no memo, no search attributes (baseline (a));
 * - `every`: the memo and four search attributes at start as the client library sets them, and two upserts of all
 *   seven listed fields, as attempts published before 2026-12-01;
 * - `changed`: the same start, and upserts of only the fields whose value changes (status and seal, then the status),
 *   as attempts publish now (workflows/visibility.ts).
 *
 * CPU per workflow: the server's process, and this process (worker and client). No ECP code runs, so what it shows is
 * Temporal's cost of what ECP publishes.
 *
 *   npm run bench:listing                                  # 6 rounds of 150 per variant at concurrency 32
 *   npm run bench:listing -- --rounds 10 --n 200 --concurrency 64 --out /tmp/results
 *
 * Writes bench/results/listing-<date>.{json,md} and listing-latest.*.
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { actionTypeKey, agentKey, proposalHashKey, statusKey } from '../common/searchAttributes';
import { searchAttributeArgs } from '../worker/devServer';
import { devServerTuningArgs } from '../worker/devServerTuning';
import { createBaselineWorker } from './baselineWorker';
import { startBenchDevServer } from './devServer';
import { machineInfo } from './machine';
import { processCpuSeconds } from './processCpu';
import { writeScriptResults } from './results';
import { percentile } from './stats';
import { LISTING_VALUES, type ListingFields } from './workflows/index';

const TASK_QUEUE = 'ecp-bench-listing';
const VARIANTS: ListingFields[] = ['none', 'every', 'changed'];
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    n: { type: 'string', default: '150' },
    concurrency: { type: 'string', default: '32' },
    out: { type: 'string' },
  },
});
const ROUNDS = positiveInteger('rounds');
const N = positiveInteger('n');
const CONCURRENCY = positiveInteger('concurrency');
const OUT = resolve(values.out ?? join(ROOT, 'bench', 'results'));

function positiveInteger(name: 'rounds' | 'n' | 'concurrency'): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name}: expected a whole number above 0, got "${values[name]}"`);
    process.exit(2);
  }
  return value;
}

interface Block {
  perSecond: number;
  serverCpuMs: number;
  workerAndClientCpuMs: number;
  totalCpuMs: number;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const startedAt = new Date().toISOString();
  const server = await startBenchDevServer([...devServerTuningArgs(), ...searchAttributeArgs()]);
  try {
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const native = await NativeConnection.connect({ address: server.address });
    const worker = await createBaselineWorker(native, TASK_QUEUE);
    const blocks: Record<ListingFields, Block[]> = { none: [], every: [], changed: [] };
    await worker.runUntil(async () => {
      for (const fields of VARIANTS) await runBlock(client, server.pid, fields, 50); // warm-up
      for (let round = 1; round <= ROUNDS; round++) {
        for (const fields of shuffled(VARIANTS)) {
          const block = await runBlock(client, server.pid, fields, N);
          blocks[fields].push(block);
          console.log(
            `round ${round} ${fields.padEnd(7)} ${block.perSecond.toFixed(1)}/s, CPU ms per workflow: server ${block.serverCpuMs.toFixed(1)}, worker and client ${block.workerAndClientCpuMs.toFixed(1)}`,
          );
        }
      }
    });
    await native.close();
    await connection.close();
    report(startedAt, blocks);
  } finally {
    await server.stop();
  }
}

/** Runs `count` workflows of one variant, `CONCURRENCY` at a time, and the CPU they cost. */
async function runBlock(client: Client, serverPid: number, fields: ListingFields, count: number): Promise<Block> {
  const serverBefore = processCpuSeconds(serverPid);
  const ownBefore = process.cpuUsage();
  const t0 = performance.now();
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < count) {
        started++;
        await client.workflow.execute('listingShape', {
          taskQueue: TASK_QUEUE,
          workflowId: `listing-${fields}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
          args: [{ fields, payload: { n: started } }],
          ...(fields === 'none'
            ? {}
            : {
                memo: { resource: 'order-1001' },
                typedSearchAttributes: [
                  { key: statusKey, value: 'PROPOSED' },
                  { key: agentKey, value: LISTING_VALUES.agent },
                  { key: actionTypeKey, value: LISTING_VALUES.actionType },
                  { key: proposalHashKey, value: LISTING_VALUES.proposalHash },
                ],
              }),
        });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(ownBefore);
  const serverCpuMs = (((processCpuSeconds(serverPid) ?? NaN) - (serverBefore ?? NaN)) * 1000) / count;
  const workerAndClientCpuMs = (own.user + own.system) / 1000 / count;
  return { perSecond: count / seconds, serverCpuMs, workerAndClientCpuMs, totalCpuMs: serverCpuMs + workerAndClientCpuMs };
}

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function report(startedAt: string, blocks: Record<ListingFields, Block[]>): void {
  const round1 = (x: number) => Math.round(x * 10) / 10;
  const median = (xs: number[]) =>
    round1(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
    );
  const rows = VARIANTS.map((fields) => ({
    fields,
    perSecond: median(blocks[fields].map((b) => b.perSecond)),
    serverCpuMs: median(blocks[fields].map((b) => b.serverCpuMs)),
    workerAndClientCpuMs: median(blocks[fields].map((b) => b.workerAndClientCpuMs)),
    totalCpuMs: median(blocks[fields].map((b) => b.totalCpuMs)),
    blocks: blocks[fields].map((b) => ({ perSecond: round1(b.perSecond), totalCpuMs: round1(b.totalCpuMs) })),
  }));
  const none = rows[0]!;
  const ratio = (x: number) => x.toFixed(2);
  // Paired by round: the variants of one round ran back to back, so the machine's drift hits them alike.
  const fewerInRound = blocks.changed.filter((b, i) => b.totalCpuMs < blocks.every[i]!.totalCpuMs).length;
  const results = { startedAt, machine: machineInfo(), rounds: ROUNDS, n: N, concurrency: CONCURRENCY, rows, fewerInRound };
  const label: Record<ListingFields, string> = {
    none: 'none (baseline (a))',
    every: 'every field in each upsert (before)',
    changed: 'changed fields only (now)',
  };
  const md = [
    `## What the listing's search attributes cost — ${startedAt}`,
    '',
    `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}. In-memory dev server with ECP's search attributes and start flags; the auto-allowed attempt's shape (local activity, regular activity) as a plain workflow; ${ROUNDS} rounds of ${N} workflows per variant at concurrency ${CONCURRENCY}, variants in random order per round; medians. Command: \`npm run bench:listing\`.`,
    '',
    '| listing fields | workflows/s | ÷ none | CPU ms per workflow: server | worker and client | total | ÷ none |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${label[r.fields]} | ${r.perSecond} | ${ratio(none.perSecond / r.perSecond)}× | ${r.serverCpuMs} | ${r.workerAndClientCpuMs} | ${r.totalCpuMs} | ${ratio(r.totalCpuMs / none.totalCpuMs)}× |`,
    ),
    '',
    `"changed" used less CPU than "every" in ${fewerInRound} of ${ROUNDS} rounds.`,
    '',
  ].join('\n');
  writeScriptResults(OUT, 'listing', startedAt, results, md);
  console.log(`\n${md}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
