/**
 * Records the saved histories of the governance paths (docs/governance.md) into `histories-governance/`, leaving the
 * other saved histories untouched: `npx tsx test/replay/record-governance-histories.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { startTestPlane } from '../helpers/plane';
import { GOVERNANCE_POLICIES, GOVERNANCE_SCENARIOS } from './governanceScenarios';

const out = join(dirname(fileURLToPath(import.meta.url)), 'histories-governance');
mkdirSync(out, { recursive: true });
const workflowIds: Record<string, string> = {};
const plane = await startTestPlane({ policies: { 'governance.cedar': GOVERNANCE_POLICIES } });
try {
  for (const [name, run] of Object.entries(GOVERNANCE_SCENARIOS)) {
    const attemptId = await run(plane);
    const history = await plane.ecp.client.workflow.getHandle(attemptId).fetchHistory();
    writeFileSync(join(out, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
    workflowIds[`${name}.json`] = attemptId;
    console.log(`${name}: ${history.events?.length} events`);
  }
  writeFileSync(join(out, 'workflow-ids.json'), `${JSON.stringify(workflowIds, null, 2)}\n`);
} finally {
  await plane.teardown();
}
