/**
 * Re-records the saved histories the replay suite checks: `npm run histories:record`. Run it when a workflow change is
 * meant to change histories (and version the change with `patched()` if old histories must still replay).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestPlane } from '../helpers/plane';
import { SCENARIOS, SHORT_DEADLINE_POLICY } from './scenarios';

const out = join(dirname(fileURLToPath(import.meta.url)), 'histories');
mkdirSync(out, { recursive: true });
const workflowIds: Record<string, string> = {};
// Temporal's default limits: the signal-flood scenario sends more signals than ECP's servers accept.
const plane = await startTestPlane({ policies: { 'zz-short-deadline.cedar': SHORT_DEADLINE_POLICY }, serverLimits: false });
try {
  for (const [name, run] of Object.entries(SCENARIOS)) {
    const attemptId = await run(plane);
    const history = await plane.ecp.client.workflow.getHandle(attemptId).fetchHistory();
    // Proto3 JSON, the shape `temporal workflow show --output json` prints.
    writeFileSync(join(out, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
    workflowIds[`${name}.json`] = attemptId;
    console.log(`${name}: ${history.events?.length} events`);
  }
  // Replay needs each workflow ID: the attempt checks that its ID is the one derived from its proposal.
  writeFileSync(join(out, 'workflow-ids.json'), `${JSON.stringify(workflowIds, null, 2)}\n`);
} finally {
  await plane.teardown();
}
