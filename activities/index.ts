import type { PlaneRuntime } from '../config/runtime';
import { createArchiveActivities, type ArchiveBinding } from './archive';
import { createContextActivities } from './context';
import { createExecutorActivities } from './executor';
import { createPolicyActivities } from './policy';

/** All activities of the plane, bound to one runtime (configuration + extensions) and the evidence archive (if any). */
export function createActivities(runtime: PlaneRuntime, archive: ArchiveBinding | null = null) {
  return {
    ...createContextActivities(runtime),
    ...createPolicyActivities(runtime),
    ...createExecutorActivities(runtime),
    ...createArchiveActivities(runtime, archive),
  };
}

export type PlaneActivities = ReturnType<typeof createActivities>;
