import { upsertSearchAttributes } from '@temporalio/workflow';
import { awaitingGroupsKey, deadlineKey, statusKey, type AttemptStatus } from '../common';

/**
 * Publishes what visibility queries (`ecp pending`, `temporal workflow list --query`) filter on. Its own module so a
 * test bundle for Temporal's time-skipping server, which cannot register custom search attributes, can replace it.
 */
export function publishVisibility(status: AttemptStatus, awaitingGroups: string[], deadlineMs: number | null): void {
  upsertSearchAttributes([
    { key: statusKey, value: status },
    { key: awaitingGroupsKey, value: awaitingGroups },
    { key: deadlineKey, value: deadlineMs === null ? null : new Date(deadlineMs) },
  ]);
}
