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
export function beginSealing(_proposal: Proposal): void {}
export function acceptSeal(_value: string): void {}
export function sealIfMissing(): Promise<void> {
  return Promise.resolve();
}

// The stand-in must export everything the real module does (webpack replaces the module whole): checked here.
type Exports<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };
const _sameExports: Exports<typeof import('../../workflows/visibility')> = {
  publishVisibility,
  startListingSeal,
  assertListingSeal,
  beginSealing,
  acceptSeal,
  sealIfMissing,
};
