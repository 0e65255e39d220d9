/** Names that form ECP's Temporal-level contract. Changing one is a breaking change for every client. */
export const TASK_QUEUE = 'ecp';
export const WORKFLOW_TYPE = 'executionAttempt';

/** Upper bounds checked before anything reaches Temporal (its own payload limit is 2 MB). */
export const LIMITS = {
  proposalBytes: 64 * 1024,
  justificationChars: 4000,
  /** Refused decisions kept in full in the record; later ones are only counted, so a flood cannot bloat history. */
  refusedDecisionsKept: 50,
} as const;

/** Domain separation for signed decision statements, so a signature over anything else never verifies. */
export const DECISION_SIGNING_PREFIX = 'ecp.decision.v1:';

/** The context activity retries a failing context provider this many times, then pins the failure (→ deny). */
export const CONTEXT_PROVIDER_ATTEMPTS = 3;

/** How long Temporal waits for an executor heartbeat before it treats the worker as lost and retries elsewhere. */
export const EXECUTOR_HEARTBEAT_TIMEOUT = '10s';
