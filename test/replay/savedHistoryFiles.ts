/**
 * How the recording scripts (record-*.ts) save histories for the replay suite: one proto3-JSON file per attempt (the
 * shape `temporal workflow show --output json` prints) and the folder's `workflow-ids.json`, since replay needs each
 * workflow ID (the attempt checks that its ID is the one derived from its proposal).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** Fetches the closed attempt's history into `<dir>/<name>.json`; returns how many events it has. */
export async function saveHistory(dir: string, name: string, handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
  return history.events?.length ?? 0;
}

/** Writes `<dir>/workflow-ids.json`: history file name → workflow ID. */
export function saveWorkflowIds(dir: string, workflowIds: Record<string, string>): void {
  writeFileSync(join(dir, 'workflow-ids.json'), `${JSON.stringify(workflowIds, null, 2)}\n`);
}
