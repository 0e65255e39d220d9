/**
 * Baseline workflows for the overhead benchmark (bench/scenarios/overhead.ts), on their own task queue. Sandbox-safe:
 * only @temporalio/workflow and types.
 */
import { proxyActivities, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  actionTypeKey,
  agentKey,
  awaitingGroupsKey,
  deadlineKey,
  proposalHashKey,
  sealKey,
  statusKey,
} from '../../common/searchAttributes';
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

/**
 * What an attempt-shaped workflow publishes for listings (bench/listing.ts): `none`; `every`, each of the seven listed
 * fields in both upserts, as attempts did before 2026-12-01; `changed`, only the fields whose value changes (status and
 * seal, then the status), as `workflows/visibility.ts` does now. The starter sets the rest (bench/listing.ts).
 */
export type ListingFields = 'none' | 'every' | 'changed';

/** The listing fields' values of an auto-allowed refund (a seal as long as the plane's). */
export const LISTING_VALUES = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  proposalHash: `sha256:${'0'.repeat(64)}`,
  seal: `v1:${'A'.repeat(86)}`,
};

/**
 * The auto-allowed attempt's shape (a local activity, then a regular one) with its two listing upserts: after the
 * evaluation (EXECUTING, with the seal) and before closing (SUCCEEDED).
 */
export async function listingShape(input: { fields: ListingFields; payload: Record<string, unknown> }): Promise<Record<string, unknown>> {
  const evaluated = await local.noop(input.payload);
  publishListing(input.fields, 'EXECUTING', true);
  const executed = await regular.noop(evaluated);
  publishListing(input.fields, 'SUCCEEDED', false);
  return executed;
}

function publishListing(fields: ListingFields, status: string, first: boolean): void {
  if (fields === 'none') return;
  const seal: SearchAttributeUpdatePair[] = [{ key: sealKey, value: LISTING_VALUES.seal }];
  if (fields === 'changed') return upsertSearchAttributes([{ key: statusKey, value: status }, ...(first ? seal : [])]);
  upsertSearchAttributes([
    { key: agentKey, value: LISTING_VALUES.agent },
    { key: actionTypeKey, value: LISTING_VALUES.actionType },
    { key: proposalHashKey, value: LISTING_VALUES.proposalHash },
    { key: statusKey, value: status },
    { key: awaitingGroupsKey, value: [] },
    { key: deadlineKey, value: null },
    ...seal,
  ]);
}
