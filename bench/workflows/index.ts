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

/** The target calls of the governed floor: the facts read and the action, with the target's credentials. */
export interface GovernedFloorInput {
  shape: ActivityKind[];
  token: string;
  /** The facts the policy would read (ECP's context request of the action type). */
  factsUrl: string;
  /** The action (ECP's executor request), sent with this Idempotency-Key. */
  actionUrl: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

/**
 * Baseline (c), the governed floor: what any governed attempt of this shape does before its own work. The same
 * activities as (a), in the same order and kinds, but the first reads the facts from the target and the last makes the
 * action's call (undici, as ECP); and the listing an attempt publishes: the memo and four search attributes at start
 * (set by the bench's starter, as the client library sets them) and the two upserts of the changed fields (EXECUTING
 * with a seal after the first step, SUCCEEDED before closing). No policy, proposal validation, hashing, seal or record:
 * ECP ÷ (c) is what ECP's own work costs on top of the calls and the listing.
 */
export async function governedFloor(input: GovernedFloorInput): Promise<unknown> {
  if (input.shape.length < 2) throw new Error(`the governed floor needs at least two steps, got ${input.shape.join(', ')}`);
  const step = (i: number) => (input.shape[i] === 'local' ? local : regular);
  const facts = await step(0).httpJson({ method: 'GET', url: input.factsUrl, token: input.token });
  publishListing('changed', 'EXECUTING', true);
  for (let i = 1; i < input.shape.length - 1; i++) await step(i).noop({ step: i });
  const result = await step(input.shape.length - 1).httpJson({
    method: 'POST',
    url: input.actionUrl,
    token: input.token,
    idempotencyKey: input.idempotencyKey,
    body: input.body,
  });
  publishListing('changed', 'SUCCEEDED', false);
  return { facts, result };
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
