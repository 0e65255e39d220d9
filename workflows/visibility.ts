import {
  ApplicationFailure,
  CancellationScope,
  patched,
  proxyLocalActivities,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { PlaneActivities } from '../activities';
import {
  actionTypeKey,
  agentKey,
  awaitingGroupsKey,
  deadlineKey,
  FailureType,
  proposalHashKey,
  sealKey,
  statusKey,
  INTEGRITY_PATCH,
  type AttemptStatus,
  type Proposal,
} from '../common';

/** The listing seal came with the integrity rules; attempts started before them replay without the seal. */
export const LISTING_SEAL_PATCH = INTEGRITY_PATCH;

const { listingSeal } = proxyLocalActivities<PlaneActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 5, initialInterval: '200ms' },
});

// Per workflow run: the SDK gives every workflow its own instance of this module.
let sealing = false;
let seal: string | null = null;
let sealFailure: string | null = null;

/**
 * Asks the plane for this run's listing seal (client/listingSeal.ts), concurrently with whatever the workflow does
 * next. Every publish after it resolved carries the seal. The returned promise never rejects: a failure is kept
 * for {@link assertListingSeal}. Not cancellable, so a cancelled attempt is still sealed (and listed as CANCELLED).
 *
 * First it writes the memo's `resource` (what listings show) from its own proposal: after the start only the workflow
 * can change its memo, so beside a seal there is never a starter's resource. The memo, unlike a search attribute,
 * is encrypted by the payload codec.
 */
export function startListingSeal(proposal: Proposal): Promise<void> {
  if (!patched(LISTING_SEAL_PATCH)) return Promise.resolve();
  beginSealing(proposal, false);
  return requestSeal();
}

/**
 * For one-step evaluation (ONE_STEP_EVALUATION_PATCH): writes the memo as {@link startListingSeal} does; the seal then
 * comes with the evaluation ({@link acceptSeal}), or from {@link sealIfMissing} when the evaluation failed. With
 * `keepStartMemo` (attempts of WORKFLOW_TYPE) a start memo that already holds the proposal's resource, as the client
 * library sets it, is kept: the listing shows the same either way, and the attempt saves a visibility write.
 */
export function beginSealing(proposal: Proposal, keepStartMemo: boolean): void {
  sealing = true;
  if (keepStartMemo && workflowInfo().memo?.resource === proposal.resource) return;
  upsertMemo({ resource: proposal.resource });
}

/** The seal the evaluation local activity made for this run. */
export function acceptSeal(value: string): void {
  seal = value;
}

/**
 * Asks for the seal on its own when one-step evaluation failed before producing it, so a denied or cancelled attempt
 * is still listed. Never rejects (see {@link assertListingSeal}).
 */
export function sealIfMissing(): Promise<void> {
  if (!sealing || seal !== null || sealFailure !== null) return Promise.resolve();
  return requestSeal();
}

function requestSeal(): Promise<void> {
  return CancellationScope.nonCancellable(() => listingSeal()).then(
    (value) => {
      seal = value;
    },
    (err: Error) => {
      sealFailure = (err as { cause?: Error }).cause?.message ?? err.message;
    },
  );
}

/**
 * Throws when the plane could not seal this attempt: an attempt that no listing would show must not go on to wait
 * for approvers who cannot see it, or to run unseen (fail closed).
 */
export function assertListingSeal(): void {
  if (sealFailure !== null)
    throw ApplicationFailure.nonRetryable(
      `the plane could not seal the attempt for listing: ${sealFailure}`,
      FailureType.ListingSealUnavailable,
    );
}

/**
 * Publishes what visibility queries (`ecp pending`, `temporal workflow list --query`) filter on. Its own module so a
 * test bundle for Temporal's time-skipping server, which cannot register custom search attributes, can replace it.
 *
 * Afterwards every listed field holds the value the workflow's own state gives it: identity from the workflow's own
 * proposal, never trusted from whoever started it. The upsert carries only the fields whose current value (as the
 * start and earlier upserts left it, see {@link unchangedValue}) differs, so a value a starter set survives only where
 * it is exactly the workflow's own. Each call issues exactly one upsert command, as it always did (the status at
 * least), so histories keep their shape: Temporal replays an upsert by its place in history, not by its content.
 */
export function publishVisibility(
  proposal: Proposal,
  proposalHash: string,
  status: AttemptStatus,
  awaitingGroups: string[],
  deadlineMs: number | null,
): void {
  const fields: SearchAttributeUpdatePair[] = [
    { key: agentKey, value: proposal.agent },
    { key: actionTypeKey, value: proposal.actionType },
    { key: proposalHashKey, value: proposalHash },
    { key: statusKey, value: status },
    { key: awaitingGroupsKey, value: awaitingGroups },
    { key: deadlineKey, value: deadlineMs === null ? null : new Date(deadlineMs) },
    // Only with the patch: older histories replay the upserts they recorded.
    ...(sealing ? [{ key: sealKey, value: seal }] : []),
  ];
  const changed = fields.filter((field) => !unchangedValue(field));
  upsertSearchAttributes(changed.length > 0 ? changed : [{ key: statusKey, value: status }]);
}

/**
 * Whether the run's search attribute already holds `value` (no groups, no deadline and no seal all count as empty).
 * The typed view shows a starter's values too, those it sent without type information included: the server types
 * them by the namespace's registered search attributes (test/e2e/phantom-listings.test.ts starts such a liar).
 */
function unchangedValue({ key, value }: SearchAttributeUpdatePair): boolean {
  const held: unknown = workflowInfo().typedSearchAttributes.get(key);
  if (isEmpty(value)) return isEmpty(held);
  if (value instanceof Date) return held instanceof Date && held.getTime() === value.getTime();
  if (Array.isArray(value)) return Array.isArray(held) && held.length === value.length && value.every((v, i) => held[i] === v);
  return held === value;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}
