/**
 * Records the saved histories of the governance paths (docs/governance.md) into `histories-governance/`, leaving the
 * other saved histories untouched: `npx tsx test/replay/record-governance-histories.ts`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestPlane } from '../helpers/plane';
import { saveHistory, saveWorkflowIds } from './savedHistoryFiles';
import { GOVERNANCE_POLICIES, GOVERNANCE_SCENARIOS } from './governanceScenarios';

const out = join(dirname(fileURLToPath(import.meta.url)), 'histories-governance');
const workflowIds: Record<string, string> = {};
const plane = await startTestPlane({ policies: { 'governance.cedar': GOVERNANCE_POLICIES } });
try {
  for (const [name, run] of Object.entries(GOVERNANCE_SCENARIOS)) {
    const attemptId = await run(plane);
    const events = await saveHistory(out, name, plane.ecp.client.workflow.getHandle(attemptId));
    workflowIds[`${name}.json`] = attemptId;
    console.log(`${name}: ${events} events`);
  }
  saveWorkflowIds(out, workflowIds);
} finally {
  await plane.teardown();
}
