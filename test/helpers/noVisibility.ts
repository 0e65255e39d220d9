import type { AttemptStatus, Proposal } from '../../common';

/** Stand-in for workflows/visibility.ts on the time-skipping test server, which rejects custom search attributes. */
export function publishVisibility(
  _proposal: Proposal,
  _hash: string,
  _status: AttemptStatus,
  _groups: string[],
  _deadlineMs: number | null,
): void {}

/** Nothing is listed on the time-skipping server, so nothing is sealed. */
export function startListingSeal(_proposal: Proposal): Promise<void> {
  return Promise.resolve();
}
export function assertListingSeal(): void {}
