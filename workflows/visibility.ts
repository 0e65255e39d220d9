import { upsertSearchAttributes } from '@temporalio/workflow';
import { actionTypeKey, agentKey, awaitingGroupsKey, deadlineKey, proposalHashKey, statusKey, type AttemptStatus, type Proposal } from '../common';

/**
 * Publishes what visibility queries (`ecp pending`, `temporal workflow list --query`) filter on. Its own module so a
 * test bundle for Temporal's time-skipping server, which cannot register custom search attributes, can replace it.
 */
export function publishVisibility(
  proposal: Proposal,
  proposalHash: string,
  status: AttemptStatus,
  awaitingGroups: string[],
  deadlineMs: number | null,
): void {
  // Identity attributes come from the workflow's own proposal, never trusted from whoever started it.
  upsertSearchAttributes([
    { key: agentKey, value: proposal.agent },
    { key: actionTypeKey, value: proposal.actionType },
    { key: proposalHashKey, value: proposalHash },
    { key: statusKey, value: status },
    { key: awaitingGroupsKey, value: awaitingGroups },
    { key: deadlineKey, value: deadlineMs === null ? null : new Date(deadlineMs) },
  ]);
}
