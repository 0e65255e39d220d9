import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SignedDecision } from './decision';
import type { AttemptRecord, DecisionResult } from './record';

/**
 * Fire-and-forget decision (e.g. `temporal workflow signal --name decision`). Same checks as `decideUpdate`;
 * a refused decision is kept in the record. Payload: a signed decision (plain JSON).
 */
export const decisionSignal = defineSignal<[SignedDecision]>('decision');

/**
 * Decision with an immediate answer. The validator only checks shape (a rejected update leaves no trace in history),
 * so every well-formed decision — accepted or refused — is recorded. Idempotent per human: a repeated decision is
 * refused as `duplicate_approver` and changes nothing.
 */
export const decideUpdate = defineUpdate<DecisionResult, [SignedDecision]>('decide');

/**
 * Sent by the plane when a freeze or unfreeze may concern this attempt (the kill switch, docs/governance.md): a waiting
 * attempt re-checks now, with fresh context, instead of at its deadline. It carries no authority and no data — the
 * re-check reads the freeze log itself — so anyone able to send it can only cause an early re-check.
 */
export const controlsChangedSignal = defineSignal<[]>('controlsChanged');

/** The live execution record (same shape as the workflow result). */
export const recordQuery = defineQuery<AttemptRecord>('record');
