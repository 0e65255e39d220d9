/** Names that form ECP's Temporal-level contract. Changing one is a breaking change for every client. */
export const TASK_QUEUE = 'ecp';
export const WORKFLOW_TYPE = 'executionAttempt';

/** Upper bounds checked before anything reaches Temporal (its own payload limit is 2 MB). */
export const LIMITS = {
  proposalBytes: 64 * 1024,
  justificationChars: 4000,
  /**
   * Refused decisions kept in full in the record (in all, and per claimed human); later ones are only counted in
   * `refusedTotal`, so the record stays small whatever arrives and one flooder cannot crowd out other refusals.
   */
  refusedDecisionsKept: 50,
  refusedKeptPerHuman: 5,
  /** Verified facts larger than this are not pinned (the advice denies): the record must fit Temporal's payload limit. */
  factsBytes: 64 * 1024,
} as const;

/**
 * Signature checks per workflow task for decisions that arrived by signal. Signals cannot be refused before they
 * reach history, so a flood is worked off in slices of this size, each in its own workflow task, far below the SDK's
 * workflow-task deadline (Ed25519 costs ≈ 2.4 ms in the sandbox).
 */
export const DECISION_VERIFY_BUDGET = 64;

/**
 * What ECP sets on servers it controls (embedded dev server, cluster, compose) so that no caller can push an
 * attempt's history past Temporal's 50 MB limit: every payload at most `blobBytes`, at most `signalsPerAttempt`
 * signals per execution (64 × 512 KiB = 32 MiB, leaving room for the attempt's own events). Decisions normally
 * arrive by update, which is not capped this way: an update refused by the validator never reaches history.
 */
export const SERVER_LIMITS = {
  blobBytes: 512 * 1024,
  signalsPerAttempt: 64,
} as const;

/** Dynamic-config values for the limits above, as `temporal server start-dev --dynamic-config-value` takes them. */
export const SERVER_LIMIT_SETTINGS: Readonly<Record<string, number>> = {
  'limit.blobSize.error': SERVER_LIMITS.blobBytes,
  'limit.blobSize.warn': SERVER_LIMITS.blobBytes / 2,
  'history.maximumSignalsPerExecution': SERVER_LIMITS.signalsPerAttempt,
};

/**
 * Defence in depth for servers without those limits: once an attempt's history passes this share of Temporal's
 * limits while it waits, it closes (CANCELLED, nothing runs) with its record, instead of being terminated without one.
 */
export const HISTORY_BUDGET = { bytes: 40 * 1024 * 1024, events: 40_000 } as const;

/** Domain separation for signed decision statements, so a signature over anything else never verifies. */
export const DECISION_SIGNING_PREFIX = 'ecp.decision.v1:';

/** The context activity retries a failing context provider this many times, then pins the failure (→ deny). */
export const CONTEXT_PROVIDER_ATTEMPTS = 3;

/** How long Temporal waits for an executor heartbeat before it treats the worker as lost and retries elsewhere. */
export const EXECUTOR_HEARTBEAT_TIMEOUT = '10s';

/** Failure type of a `decide` update refused by its validator (details: `{ code, status }`); nothing is recorded. */
export const DECISION_REFUSED_FAILURE = 'DecisionRefused';
