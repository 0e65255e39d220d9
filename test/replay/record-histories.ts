/**
 * Re-records the saved histories the replay suite checks: `npm run histories:record`. Run it when a workflow change is
 * meant to change histories (and version the change with `patched()` if old histories must still replay).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPlane } from '../helpers/plane';
import { saveHistory, saveWorkflowIds } from './savedHistoryFiles';
import { SCENARIOS, SHORT_DEADLINE_POLICY } from './scenarios';

const out = join(dirname(fileURLToPath(import.meta.url)), 'histories');
const workflowIds: Record<string, string> = {};
// Temporal's default limits: the signal-flood scenario sends more signals than ECP's servers accept.
const plane = await startTestPlane({ policies: { 'zz-short-deadline.cedar': SHORT_DEADLINE_POLICY }, serverLimits: false });
try {
  for (const [name, run] of Object.entries(SCENARIOS)) {
    const attemptId = await run(plane);
    const events = await saveHistory(out, name, plane.ecp.client.workflow.getHandle(attemptId));
    workflowIds[`${name}.json`] = attemptId;
    console.log(`${name}: ${events} events`);
  }
  saveWorkflowIds(out, workflowIds);
} finally {
  await plane.teardown();
}
