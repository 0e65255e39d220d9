import type { KeyObject } from 'node:crypto';
import type { PlaneRuntime } from '../config/runtime';
import { createArchiveActivities, type ArchiveBinding } from './archive';
import { createContextActivities } from './context';
import { createControlsActivities, FreezeState } from './controls';
import { createEvaluationActivities } from './evaluation';
import { createExecutorActivities } from './executor';
import { createListingSealActivities } from './listingSeal';
import { createPolicyActivities } from './policy';
import type { McpDownstream } from './mcp/downstream';
import { createMcpActivities } from './mcp/catalogue';
import { createNotificationActivities } from './notify';

/**
 * All activities of the plane, bound to one runtime (configuration + extensions), the evidence archive (if any) and
 * the plane key that seals attempts for listing (client/listingSeal.ts), and the MCP downstream connections (if any).
 */
export function createActivities(
  runtime: PlaneRuntime,
  archive: ArchiveBinding | null,
  planeKey: KeyObject,
  mcp: McpDownstream | null = null,
) {
  // One freeze cache per worker, shared by evaluation and executors.
  const freezes = new FreezeState(runtime);
  const context = createContextActivities(runtime, freezes, mcp);
  const policy = createPolicyActivities(runtime);
  const sealing = createListingSealActivities(planeKey);
  return {
    ...context,
    ...policy,
    ...createEvaluationActivities(context, policy, sealing, mcp),
    ...createExecutorActivities(runtime, freezes, mcp),
    ...createMcpActivities(runtime),
    ...createControlsActivities(runtime),
    ...createArchiveActivities(runtime, archive),
    ...sealing,
    ...createNotificationActivities(runtime, planeKey),
  };
}

export type PlaneActivities = ReturnType<typeof createActivities>;
