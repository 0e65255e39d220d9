import type { AttemptStatus, Proposal } from '../../common';

/** Stand-in for workflows/visibility.ts on the time-skipping test server, which rejects custom search attributes. */
export function publishVisibility(_proposal: Proposal, _hash: string, _status: AttemptStatus, _groups: string[], _deadlineMs: number | null): void {}
