// Kept free of zod (like common/statement.ts) so the web console's browser bundle can use the statuses and stay small.

/** Every status of an attempt, in lifecycle order (see the BRIEF's attempt lifecycle). */
export const ATTEMPT_STATUSES = [
  'PROPOSED',
  'EVALUATING',
  'AWAITING_DECISION',
  'EXECUTING',
  'SUCCEEDED',
  'FAILED',
  'DENIED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
] as const;
/** One of the attempt lifecycle statuses. */
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** The statuses an attempt closes in; none of them ever changes again. */
export const TERMINAL_STATUSES: readonly AttemptStatus[] = ['SUCCEEDED', 'FAILED', 'DENIED', 'REJECTED', 'EXPIRED', 'CANCELLED'];
