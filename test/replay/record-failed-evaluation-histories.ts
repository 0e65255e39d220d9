/**
 * Records the saved history of an attempt whose evaluation failed (its policy gave no advice on any try) into
 * `histories-failed-evaluation/<name>.json` (default name `policy-unavailable`), with its workflow ID in that
 * folder's `workflow-ids.json`: `npx tsx test/replay/record-failed-evaluation-histories.ts [name]`. The replay suite
 * checks each one replays to exactly its saved record.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from '@temporalio/worker';
import { refund, uniqueKey } from '../helpers/attempts';
import { FAULTS, faultyActivities } from '../helpers/faultyActivities';
import { startTestPlane } from '../helpers/plane';
import { saveHistory, saveWorkflowIds } from './savedHistoryFiles';

const name = process.argv[2] ?? 'policy-unavailable';
const out = join(dirname(fileURLToPath(import.meta.url)), 'histories-failed-evaluation');
const idsFile = join(out, 'workflow-ids.json');
const workflowIds = existsSync(idsFile) ? (JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, string>) : {};
const workerOptions: Partial<WorkerOptions> = {};
const plane = await startTestPlane({ workerOptions });
try {
  await plane.stopWorker();
  workerOptions.activities = faultyActivities(plane);
  await plane.startWorker();
  const { attemptId } = await plane.ecp.propose(refund(100, 'order-1001', { idempotencyKey: uniqueKey(FAULTS.policy) }));
  await plane.ecp.awaitOutcome(attemptId);
  const events = await saveHistory(out, name, plane.ecp.client.workflow.getHandle(attemptId));
  saveWorkflowIds(out, { ...workflowIds, [`${name}.json`]: attemptId });
  console.log(`${name}: ${events} events`);
} finally {
  await plane.teardown();
}
