import type { PlaneRuntime } from '../config/runtime';
import { createContextActivities } from './context';
import { createExecutorActivities } from './executor';
import { createPolicyActivities } from './policy';

/** All activities of the plane, bound to one runtime (configuration + extensions). */
export function createActivities(runtime: PlaneRuntime) {
  return {
    ...createContextActivities(runtime),
    ...createPolicyActivities(runtime),
    ...createExecutorActivities(runtime),
  };
}

export type PlaneActivities = ReturnType<typeof createActivities>;
