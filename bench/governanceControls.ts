/**
 * `npm run bench:controls` — the kill switch's and the notifier's figures (docs/kill-switch-and-notifications.md), on
 * a real dev server with the demo plane (worker in this process):
 *
 *  1. freeze → effect: from sending `ecp freeze`'s signed statement (the CLI's update call) to the first NEW attempt
 *     of the scope DENIED, and to every attempt WAITING for a decision closed (20 waiting, 3 trials);
 *  2. auto-allow latency with the notifier on vs off: sequential auto-allowed attempts in interleaved blocks (off, on,
 *     off, on …) on the same plane, so drift of the machine falls on both sides; the notifier delivers every
 *     `executed` event to a local webhook while "on".
 *
 *   --waiting <n>   waiting attempts per freeze trial (default 20)
 *   --trials <n>    freeze trials (default 3)
 *   --block <n>     attempts per latency block (default 40); --rounds <n> off/on rounds (default 4)
 *   --poll <s>      the notifier's pollInterval in seconds (default 5, as ecp.yaml's default)
 */
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureNotifier } from '../client/notifier';
import { sendControl, signFreeze } from '../client/controls';
import { NOTIFIER_WORKFLOW_ID, type FreezeScope } from '../common';
import { freePort } from '../test/helpers/temporalServers';
import { startTestPlane } from '../test/helpers/plane';
import { waitForStatus } from '../test/helpers/attempts';
import { BENCH_ORDER } from './env';
import { benchRefund, sleep } from './load';
import { summarize } from './stats';

const { values } = parseArgs({
  options: {
    waiting: { type: 'string' },
    trials: { type: 'string' },
    block: { type: 'string' },
    rounds: { type: 'string' },
    poll: { type: 'string' },
  },
});
const WAITING = Number(values.waiting ?? 20);
const TRIALS = Number(values.trials ?? 3);
const BLOCK = Number(values.block ?? 40);
const ROUNDS = Number(values.rounds ?? 4);
const POLL = Number(values.poll ?? 5);

let delivered = 0;
const hookPort = await freePort();
const hook = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    delivered++;
    res.writeHead(204).end();
  });
}).listen(hookPort, '127.0.0.1');
process.env.ECP_BENCH_WEBHOOK_SECRET = 'bench-secret';

const plane = await startTestPlane({
  config: {
    controls: { freezeGroup: 'sre' },
    notifications: {
      consoleUrl: 'http://127.0.0.1:8080',
      pollInterval: `${POLL}s`,
      channels: { hook: { webhook: { url: `http://127.0.0.1:${hookPort}/`, secret: '${env:ECP_BENCH_WEBHOOK_SECRET}' } } },
    },
  },
});
plane.target.orders.set(BENCH_ORDER, { total: 1_000_000_000_000, refunded: 0, currency: 'EUR', customer: 'Bench' });
const log = (s: string) => console.log(`bench:controls: ${s}`);

async function autoAllow(): Promise<{ ms: number; status: string }> {
  const t0 = performance.now();
  const { attemptId } = await plane.ecp.propose(benchRefund(100, 'auto'));
  const record = await plane.ecp.awaitOutcome(attemptId);
  return { ms: performance.now() - t0, status: record.status };
}

async function notifierOff(): Promise<void> {
  await plane.ecp.client.workflow
    .getHandle(NOTIFIER_WORKFLOW_ID)
    .terminate('bench: notifications off')
    .catch(() => {});
}

// 1. Freeze → effect.
const scope: FreezeScope = { kind: 'agent', agent: 'refund-bot' };
const trials: Array<{ acceptedMs: number; firstDeniedMs: number; waitingClosed: ReturnType<typeof summarize> }> = [];
for (let trial = 1; trial <= TRIALS; trial++) {
  const waiting = await Promise.all(Array.from({ length: WAITING }, () => plane.ecp.propose(benchRefund(9_000, 'wait'))));
  await Promise.all(waiting.map(({ attemptId }) => waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION', 60_000)));
  const t0 = performance.now();
  const closed = Promise.all(
    waiting.map(async ({ attemptId }) => {
      const record = await plane.ecp.awaitOutcome(attemptId);
      if (record.status !== 'DENIED') throw new Error(`waiting attempt ${attemptId} ended ${record.status}, not DENIED`);
      return performance.now() - t0;
    }),
  );
  const sent = sendControl(
    plane.ecp.client,
    signFreeze({ op: 'freeze', scope, reason: `bench trial ${trial}`, human: 'bob' }, plane.key('bob')),
  );
  // New attempts, one after another from the moment the freeze is sent, until one is denied.
  let firstDeniedMs = NaN;
  for (;;) {
    const { status } = await autoAllow();
    if (status === 'DENIED') {
      firstDeniedMs = performance.now() - t0;
      break;
    }
  }
  await sent;
  const acceptedMs = performance.now() - t0;
  const waitingClosed = summarize(await closed);
  trials.push({ acceptedMs, firstDeniedMs, waitingClosed });
  log(
    `trial ${trial}: first new attempt denied after ${firstDeniedMs.toFixed(0)} ms; ${WAITING} waiting closed after p50 ${waitingClosed.p50.toFixed(0)} ms, max ${waitingClosed.max.toFixed(0)} ms`,
  );
  await sendControl(plane.ecp.client, signFreeze({ op: 'unfreeze', scope, reason: 'bench', human: 'bob' }, plane.key('bob')));
  await sleep(1_200); // the workers' freeze cache
}

// 2. Auto-allow latency, notifier off vs on.
for (let i = 0; i < 10; i++) await autoAllow(); // warm-up
const samples: Record<'off' | 'on', number[]> = { off: [], on: [] };
// Per-block medians: their spread among the "off" blocks is the run's noise.
const blockP50: Record<'off' | 'on', number[]> = { off: [], on: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of ['off', 'on'] as const) {
    if (mode === 'off') await notifierOff();
    else await ensureNotifier(plane.ecp.client, { intervalSeconds: POLL });
    const block: number[] = [];
    for (let i = 0; i < BLOCK; i++) {
      const { ms, status } = await autoAllow();
      if (status !== 'SUCCEEDED') throw new Error(`auto-allowed attempt ended ${status}`);
      block.push(ms);
    }
    samples[mode].push(...block);
    blockP50[mode].push(summarize(block).p50);
  }
}
await sleep(3_000);
const off = summarize(samples.off);
const on = summarize(samples.on);
const result = {
  at: new Date().toISOString(),
  freeze: { waitingPerTrial: WAITING, trials },
  autoAllow: { pollSeconds: POLL, off, on, ratioP50: on.p50 / off.p50, ratioP95: on.p95 / off.p95, blockP50, webhookDeliveries: delivered },
};
log(`block medians (ms): off ${blockP50.off.map((x) => x.toFixed(0)).join(' ')}; on ${blockP50.on.map((x) => x.toFixed(0)).join(' ')}`);
log(
  `auto-allow p50 off ${off.p50.toFixed(1)} ms, on ${on.p50.toFixed(1)} ms (ratio ${result.autoAllow.ratioP50.toFixed(3)}); p95 ratio ${result.autoAllow.ratioP95.toFixed(3)}; ${delivered} webhook deliveries`,
);
const outDir = join(fileURLToPath(new URL('.', import.meta.url)), 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'governance-controls-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${join(outDir, 'governance-controls-latest.json')}`);
await notifierOff();
await plane.teardown();
hook.close();
process.exit(0);
