/**
 * Archive figures (one run, in-memory dev server, worker in this process): `npm run bench:archive`.
 *  - archive size per sealed attempt: logical bytes (pack + index entry) and bytes on disk (allocated blocks);
 *  - sealing throughput: export (full history from Temporal) + seal, one sealer, sequential; and seal alone
 *    (packs already exported) to separate the archive's own cost; re-sealing (idempotent no-op);
 *  - `verifyArchive` throughput without and with history replay.
 * Mix: 2/3 auto-allowed refunds, 1/3 refunds approved by a human (longer histories, a signed decision).
 * Options via env: BENCH_ATTEMPTS (default 150).
 */
import '../test/helpers/setup-temporal';
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Archive } from '../audit/archive/archive';
import { sealAttempt } from '../audit/archive/sealer';
import { verifyArchive } from '../audit/archive/verify';
import { exportEvidencePack } from '../audit/pack/export';
import type { EvidencePack } from '../audit/pack/schema';
import { warmUpReplay } from '../audit/replay/replay';
import { EcpClient } from '../client';
import { loadHumanKey } from '../client/keys';
import { PlaneRuntime } from '../config/runtime';
import { ensureControls } from '../client/controls';
import { prepareDemo } from '../examples/demo/setup';
import { createDemoTarget } from '../examples/demo/target';
import { freePort, startDevServer } from '../test/helpers/temporalServers';
import { createPlaneWorker } from '../worker/plane';
import { ensureSearchAttributes } from '../worker/searchAttributes';

const N = Number(process.env.BENCH_ATTEMPTS ?? 150);
const dataDir = mkdtempSync(join(tmpdir(), 'ecp-bench-archive-'));
const demo = prepareDemo(dataDir);
const target = createDemoTarget(demo.targetToken);
const port = await freePort();
const http = serve({ port, hostname: '127.0.0.1', fetch: target.app.fetch });
process.env.DEMO_TARGET_URL = `http://127.0.0.1:${port}`;
process.env.DEMO_TARGET_TOKEN = demo.targetToken;
target.orders.set('order-bench', { total: 1_000_000_000, refunded: 0, currency: 'EUR', customer: 'Bench' });

const { env } = await startDevServer();
await ensureSearchAttributes(env.connection, 'default');
const runtime = new PlaneRuntime(demo.configPath);
const worker = await createPlaneWorker({ connection: env.nativeConnection, namespace: 'default', runtime });
const running = worker.run();
const ecp = new EcpClient(new Client({ connection: env.connection }), runtime.config);
// The demo config has the kill switch: without its controls workflow every attempt is DENIED (fail closed).
await ensureControls(ecp.client);
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

const ids: string[] = [];
for (let i = 0; i < N; i += 10) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(10, N - i) }, async (_, j) => {
      const needsApproval = (i + j) % 3 === 2;
      const { attemptId } = await ecp.propose(refund(needsApproval ? 6_000 : 100));
      if (needsApproval) {
        for (;;) {
          if ((await ecp.getRecord(attemptId)).status === 'AWAITING_DECISION') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: alice });
      }
      await ecp.awaitOutcome(attemptId);
      return attemptId;
    }),
  );
  ids.push(...batch);
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const rate = (count: number, s: number) => `${(count / s).toFixed(1)}/s`;

// Export + seal, as the archiver's activity does it.
const full = Archive.local(join(dataDir, 'archive-full'));
let t0 = performance.now();
for (const id of ids) await sealAttempt(full, ecp, id, { dataDir });
const exportAndSeal = seconds(t0);

// Seal alone: the archive's own cost (hashing, atomic writes with fsync, chain append).
const packs: EvidencePack[] = [];
t0 = performance.now();
for (const id of ids) packs.push(await exportEvidencePack(ecp, id, { dataDir }));
const exportOnly = seconds(t0);
const sealOnlyArchive = Archive.local(join(dataDir, 'archive-seal-only'));
t0 = performance.now();
for (const pack of packs) await sealOnlyArchive.seal(pack.attemptId, async () => pack);
const sealOnly = seconds(t0);

// The archiver's worker keeps one Archive (its index cache refreshes incrementally), so a re-seal is a lookup.
t0 = performance.now();
for (const id of ids) await sealAttempt(full, ecp, id);
const reseal = seconds(t0);
// A fresh process (e.g. `ecp audit archive`) reads the whole index once.
t0 = performance.now();
await Archive.local(full.location).entries();
const indexRead = seconds(t0);

const disk = await full.store.sizeOnDisk();
const entries = await full.entries();
const packBytes = entries.reduce((sum, e) => sum + e.object.bytes, 0);
const indexBytes = readdirSync(join(full.location, 'index')).reduce((sum, f) => sum + statSync(join(full.location, 'index', f)).size, 0);

// Bundling the workflow code for replay (webpack, once per process) is timed apart from verification itself.
t0 = performance.now();
await warmUpReplay();
const bundling = seconds(t0);
t0 = performance.now();
const quick = await verifyArchive(full.location, { replay: false });
const verifyQuick = seconds(t0);
t0 = performance.now();
const thorough = await verifyArchive(full.location, { replay: true });
const verifyReplay = seconds(t0);
if (!quick.ok || !thorough.ok)
  throw new Error(`archive did not verify: ${JSON.stringify([...quick.problems, ...thorough.problems].slice(0, 3))}`);

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
console.log(`
ECP archive figures — ${new Date().toISOString()}, Node ${process.version}, in-memory dev server, ${N} attempts (2/3 auto-allowed, 1/3 approved)
  size per sealed attempt: ${kib((packBytes + indexBytes) / N)} logical (pack ${kib(packBytes / N)} + index entry ${kib(indexBytes / N)}); ${kib((disk.objects + disk.index) / N)} on disk (allocated blocks)
  export + seal (archiver path, sequential):  ${rate(N, exportAndSeal)}  (${((1000 * exportAndSeal) / N).toFixed(1)} ms per attempt)
    of which export alone (history fetch + pack build):  ${rate(N, exportOnly)}
    seal alone (hash + 2 fsynced atomic writes + chain CAS):  ${rate(N, sealOnly)}  (${((1000 * sealOnly) / N).toFixed(1)} ms per attempt)
  re-seal of archived attempts (idempotent no-op):  ${rate(N, reseal)};  cold index read of ${N} entries: ${(1000 * indexRead).toFixed(0)} ms
  verifyArchive without replay:  ${rate(N, verifyQuick)};  with replay:  ${rate(N, verifyReplay)}  (after ${bundling.toFixed(1)} s bundling the workflow code once)
`);

worker.shutdown();
await running;
http.close();
await env.teardown();
process.exit(0);
