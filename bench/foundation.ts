/**
 * Foundation figures (one run, in-memory dev server, worker in this process): `npm run bench:foundation`.
 *  - end-to-end latency of auto-allowed attempts (propose → final record), N sequential runs;
 *  - decision → action-start latency: `decide` returning → the target receiving the executor's request;
 *  - process RSS with PENDING attempts awaiting a decision (worker + client + demo target; the server is separate).
 * Options via env: BENCH_RUNS (default 100), BENCH_PENDING (default 1000).
 */
import '../test/helpers/setup-temporal';
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EcpClient } from '../client';
import { loadHumanKey } from '../client/keys';
import { PlaneRuntime } from '../config/runtime';
import { prepareDemo } from '../examples/demo/setup';
import { createDemoTarget } from '../examples/demo/target';
import { freePort, startDevServer } from '../test/helpers/temporalServers';
import { createPlaneWorker } from '../worker/plane';
import { ensureSearchAttributes } from '../worker/searchAttributes';

const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const PENDING = Number(process.env.BENCH_PENDING ?? 1000);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

const dataDir = mkdtempSync(join(tmpdir(), 'ecp-bench-'));
const demo = prepareDemo(dataDir);
const target = createDemoTarget(demo.targetToken);
const arrivals = new Map<string, number>();
const port = await freePort();
const http = serve({
  port,
  hostname: '127.0.0.1',
  fetch: (req) => {
    const key = req.headers.get('idempotency-key');
    if (req.method === 'POST' && key && !arrivals.has(key)) arrivals.set(key, performance.now());
    return target.app.fetch(req);
  },
});
process.env.DEMO_TARGET_URL = `http://127.0.0.1:${port}`;
process.env.DEMO_TARGET_TOKEN = demo.targetToken;
target.orders.set('order-bench', { total: 1_000_000_000, refunded: 0, currency: 'EUR', customer: 'Bench' });

const { env } = await startDevServer();
await ensureSearchAttributes(env.connection, 'default');
const runtime = new PlaneRuntime(demo.configPath);
const worker = await createPlaneWorker({ connection: env.nativeConnection, namespace: 'default', runtime });
const running = worker.run();
const ecp = new EcpClient(new Client({ connection: env.connection }), runtime.config);
const alice = loadHumanKey(demo.keysDir, 'alice');
let n = 0;
const refund = (amount: number) => ({
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-bench',
  parameters: { orderId: 'order-bench', amount, reason: 'bench' },
  justification: 'bench',
  idempotencyKey: `bench-${Date.now()}-${n++}`,
});

// Warm-up: workflow bundle load, connections, caches.
for (let i = 0; i < 5; i++) await ecp.awaitOutcome((await ecp.propose(refund(100))).attemptId);

const auto: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const { attemptId } = await ecp.propose(refund(100));
  const record = await ecp.awaitOutcome(attemptId);
  if (record.status !== 'SUCCEEDED') throw new Error(`auto-allow ended ${record.status}`);
  auto.push(performance.now() - t0);
}

const decisionToAction: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const { attemptId } = await ecp.propose(refund(6_000));
  for (;;) {
    const r = await ecp.getRecord(attemptId);
    if (r.status === 'AWAITING_DECISION') break;
    await new Promise((res) => setTimeout(res, 5));
  }
  await ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: alice });
  const decided = performance.now();
  await ecp.awaitOutcome(attemptId);
  decisionToAction.push(arrivals.get(attemptId)! - decided);
}

const baselineRss = process.memoryUsage().rss;
const pendingIds: string[] = [];
const startPending = performance.now();
for (let i = 0; i < PENDING; i += 25) {
  const batch = await Promise.all(Array.from({ length: Math.min(25, PENDING - i) }, () => ecp.propose(refund(7_000))));
  pendingIds.push(...batch.map((b) => b.attemptId));
}
for (;;) {
  const waiting = await env.connection.workflowService.countWorkflowExecutions({ namespace: 'default', query: 'EcpStatus = "AWAITING_DECISION"' });
  if (Number(waiting.count) >= PENDING) break;
  await new Promise((res) => setTimeout(res, 250));
}
const pendingSeconds = (performance.now() - startPending) / 1000;
global.gc?.();
const pendingRss = process.memoryUsage().rss;

console.log(`
ECP foundation figures — ${new Date().toISOString()}, Node ${process.version}, in-memory dev server, ${RUNS} runs
  auto-allowed attempt, propose → final record:  median ${ms(pct(auto, 50))}  p95 ${ms(pct(auto, 95))}  (n=${auto.length})
  decision → action start (decide returns → executor request at target):  median ${ms(pct(decisionToAction, 50))}  p95 ${ms(pct(decisionToAction, 95))}  (n=${decisionToAction.length})
  ${PENDING} attempts awaiting a decision: started and evaluated in ${pendingSeconds.toFixed(1)} s; process RSS ${(pendingRss / 2 ** 20).toFixed(0)} MiB (before: ${(baselineRss / 2 ** 20).toFixed(0)} MiB; worker + client + target in one process)
`);

worker.shutdown();
await running;
http.close();
await env.teardown();
process.exit(0);
