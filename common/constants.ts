import { FailureType } from './errors';

/** Names that form ECP's Temporal-level contract. Changing one is a breaking change for every client. */
export const TASK_QUEUE = 'ecp';
/**
 * The workflow type attempts are started as (ECP 0.6 on). It follows the same rules as {@link LEGACY_WORKFLOW_TYPE}
 * and records none of its patch markers: each marker costs two history events, one of them a visibility write
 * (Temporal's `TemporalChangeVersion` search attribute). A new type rather than a new start-input field, so that a
 * worker older than it fails the workflow task (unknown type; retried until a current worker takes it) instead of
 * running the attempt the old way, which a current worker replaying it could not follow.
 */
export const WORKFLOW_TYPE = 'executionAttemptV2';
/**
 * The workflow type of attempts started before ECP 0.6, or by any starter that still names it: still registered,
 * with the same rules; it records the ONE_STEP_EVALUATION_PATCH marker and writes its memo.
 */
export const LEGACY_WORKFLOW_TYPE = 'executionAttempt';
/** Every workflow type an attempt runs as: what listings query and the listing seal and clients accept. */
export const ATTEMPT_WORKFLOW_TYPES: readonly string[] = [WORKFLOW_TYPE, LEGACY_WORKFLOW_TYPE];

/** The visibility-query clause that selects attempt workflows of either type: `WorkflowType IN ("…", "…")`. */
export const ATTEMPT_TYPE_CLAUSE = `WorkflowType IN (${ATTEMPT_WORKFLOW_TYPES.map((t) => `"${t}"`).join(', ')})`;

/** True for a workflow type an attempt runs as ({@link ATTEMPT_WORKFLOW_TYPES}). */
export function isAttemptWorkflowType(type: string | undefined): boolean {
  return type !== undefined && ATTEMPT_WORKFLOW_TYPES.includes(type);
}

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
 * How much signal work one workflow task may do: one unit per signal (the SDK's own cost is ≈ 1 ms each on a busy
 * 2-core machine) and `perSignatureCheck` more per Ed25519 check (≈ 2.4 ms in the sandbox). A flood is taken in
 * slices of this size, each in its own workflow task, far below the SDK's 5 s workflow-task deadline.
 */
export const SIGNAL_INTAKE_BUDGET = { perTask: 200, perSignatureCheck: 3 } as const;

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

/**
 * Dynamic-config values for the limits above, as `temporal server start-dev --dynamic-config-value` takes them.
 * Temporal's buffered-event limits stay at their defaults (100 events or 2 MB arriving while a workflow task runs):
 * past them the server fails the running task itself to flush them (cause FORCE_CLOSE_COMMAND) and the worker goes on
 * with the next one — the server's flow control, which keeps each persistence transaction under its 4 MB limit.
 */
export const SERVER_LIMIT_SETTINGS: Readonly<Record<string, number>> = {
  'limit.blobSize.error': SERVER_LIMITS.blobBytes,
  'limit.blobSize.warn': SERVER_LIMITS.blobBytes / 2,
  'history.maximumSignalsPerExecution': SERVER_LIMITS.signalsPerAttempt,
};

/** Domain separation for signed decision statements, so a signature over anything else never verifies. */
export const DECISION_SIGNING_PREFIX = 'ecp.decision.v1:';

/** The context activity retries a failing context provider this many times, then pins the failure (→ deny). */
export const CONTEXT_PROVIDER_ATTEMPTS = 3;

/**
 * The plane worker's sticky-queue schedule-to-start timeout (the SDK's default, set explicitly): how long Temporal
 * leaves a workflow task or query on the queue of the worker that cached the attempt before another worker may take
 * it, e.g. after that worker was killed. `EcpClient.getRecord` waits this long on top for an attempt a worker has run.
 */
export const STICKY_QUEUE_TIMEOUT_MS = 10_000;

/** How long Temporal waits for an executor heartbeat before it treats the worker as lost and retries elsewhere. */
export const EXECUTOR_HEARTBEAT_TIMEOUT = '10s';

/** @deprecated Use `FailureType.DecisionRefused` (common/errors.ts), where every failure type the plane uses lives. */
export const DECISION_REFUSED_FAILURE = FailureType.DecisionRefused;

/**
 * Patch marker of the integrity rules (ECP 0.3): strict start input, bounded decision intake and the listing seal.
 * One marker for all three, so an attempt's history carries one event for them; histories without it replay as they ran.
 */
export const INTEGRITY_PATCH = 'ecp-integrity';

/**
 * Patch marker of the governance controls (issue 13, docs/governance.md): escalation and reminder timers, the early
 * re-check on `controlsChanged`, and the ratification window after an override. Histories without it replay as they ran.
 */
export const GOVERNANCE_PATCH = 'ecp-governance';

/**
 * Patch marker of the quiet wait: an attempt turns AWAITING_DECISION and waits in a workflow task of its own (a 1 ms timer).
 * Temporal keeps a refused update's workflow task in history when more than
 * `history.discardSpeculativeWorkflowTaskMaximumEventsCount` (default 10) events follow the last completed task, and
 * the task that evaluates an attempt emits more (patch markers, local-activity markers, search attributes). Waiting
 * from a fresh task keeps that tail short, so a refused `decide` update leaves no trace even on a server ECP does not
 * configure. Histories without it replay as they ran.
 */
export const QUIET_WAIT_PATCH = 'ecp-quiet-wait';

/**
 * Patch marker of one-step evaluation (ECP 0.5): the attempt gathers context, evaluates the policy and gets its listing
 * seal in one local activity (`evaluateAttempt`), at the first evaluation and at every re-check. It also stands for
 * INTEGRITY_PATCH, GOVERNANCE_PATCH and the local evaluation: an attempt that records it behaves as with those,
 * without recording them (each marker costs two history events: the marker and Temporal's `TemporalChangeVersion`
 * search attribute). Its first workflow task emits at most 6 events (this marker and its search attribute, the memo,
 * the evaluation marker, the search attributes, the deadline timer), so the wait needs no task of its own
 * (QUIET_WAIT_PATCH does not apply). Histories without it replay as they ran. Attempts of WORKFLOW_TYPE behave as
 * with it, without recording it.
 */
export const ONE_STEP_EVALUATION_PATCH = 'ecp-one-step-evaluation';

/** Decision deadline for approval policies without @deadline, unless ecp.yaml's `defaults.approvalDeadline` says otherwise. */
export const DEFAULT_APPROVAL_DEADLINE = '24h';
