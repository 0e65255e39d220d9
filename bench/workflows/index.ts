/**
 * Baseline workflows for the overhead benchmark (bench/scenarios/overhead.ts), on their own task queue. Sandbox-safe:
 * only @temporalio/workflow and types.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BaselineActivities } from './activities';

export const BASELINE_TASK_QUEUE = 'ecp-bench-baseline';

const regular = proxyActivities<BaselineActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
const local = proxyLocalActivities<BaselineActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

/** One step of the ECP attempt's run-time shape: a regular or a local activity. */
export type ActivityKind = 'regular' | 'local';

/**
 * Baseline (a): the same number and kind of activities, in the same order, as an auto-allowed ECP attempt ran
 * (derived from that attempt's history in the same run), each a no-op echoing a small payload.
 */
export async function bareShape(input: { shape: ActivityKind[]; payload: Record<string, unknown> }): Promise<Record<string, unknown>> {
  let last = input.payload;
  for (const kind of input.shape) last = await (kind === 'local' ? local : regular).noop(last);
  return last;
}

/** Baseline (b): an ungoverned workflow that makes the same HTTP call to the same target in one activity. */
export async function ungoverned(input: {
  url: string;
  token: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}): Promise<unknown> {
  return regular.postJson(input);
}
