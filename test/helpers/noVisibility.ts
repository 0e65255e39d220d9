import type { AttemptStatus } from '../../common';

/** Stand-in for workflows/visibility.ts on the time-skipping test server, which rejects custom search attributes. */
export function publishVisibility(_status: AttemptStatus, _awaitingGroups: string[], _deadlineMs: number | null): void {}
