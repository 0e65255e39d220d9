/**
 * `npx tsx bench/stackTraceCost.ts [--attempts 80] [--passes 3]` — what the SDK's workflow stack-trace tracking costs
 * the live plane worker: the test plane (real dev server, plane worker and client in this process), auto-allowed
 * attempts one after another, with ECP_WORKFLOW_STACK_TRACES off and on alternately (the worker restarted for each
 * batch, a warm-up batch first). Reports process CPU per attempt (worker and client; the server is another process).
 */
import { parseArgs } from 'node:util';
import { refund, uniqueKey } from '../test/helpers/attempts';
import { startTestPlane } from '../test/helpers/plane';
import { WORKFLOW_STACK_TRACES_ENV } from '../worker/workflowThreads';

const { values } = parseArgs({ options: { attempts: { type: 'string', default: '80' }, passes: { type: 'string', default: '3' } } });
const attempts = Number(values.attempts);
const plane = await startTestPlane();

async function batch(): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < attempts; i++) {
    // Small refunds of a known order: the demo policy allows them automatically.
    const { attemptId } = await plane.ecp.propose(refund(1, 'order-1002', { idempotencyKey: uniqueKey('stack-cost') }));
    const record = await plane.ecp.awaitOutcome(attemptId);
    if (record.status !== 'SUCCEEDED') throw new Error(`attempt ${attemptId} ended ${record.status}`);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / attempts;
}

try {
  for (let pass = 1; pass <= Number(values.passes); pass++) {
    for (const on of [false, true]) {
      if (on) process.env[WORKFLOW_STACK_TRACES_ENV] = '1';
      else delete process.env[WORKFLOW_STACK_TRACES_ENV];
      await plane.stopWorker();
      await plane.startWorker();
      await batch(); // warm-up: bundle, JIT, connections
      console.log(`pass ${pass}, stack traces ${on ? 'on ' : 'off'}: ${(await batch()).toFixed(2)} ms CPU per attempt`);
    }
  }
} finally {
  delete process.env[WORKFLOW_STACK_TRACES_ENV];
  await plane.teardown();
}
