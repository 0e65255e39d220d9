import { z } from 'zod';
import { adviceSchemas } from './advice';
import { decisionStatementSchema, verdictSchema } from './decision';
import { sharedSchema } from './lazySchema';
import { pinnedDirectorySchema } from './directory';
import { actionTypeNameSchema, digestSchema, humanIdSchema, jsonObjectSchema, jsonValueSchema, proposalSchema } from './proposal';
import { ATTEMPT_STATUSES, type AttemptStatus } from './status';
import { parseOrThrow } from './validation';

// The record's schema. The workflow builds records (typed by these schemas, never parsed: not on its hot path, and
// not even constructed there — see `recordSchemas`); every reader outside it (client, evidence pack, archive, API)
// parses with `parseRecord`. Nothing here has a default or a transform, so a record that parses is returned exactly
// as given: same canonical JSON, same digest.

export { ATTEMPT_STATUSES, TERMINAL_STATUSES, type AttemptStatus } from './status';

/** Any plain JSON value (facts, parameters, an executor's result). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Why a decision did not count. Stable: scripts and the console branch on these. */
export const REFUSAL_CODES = [
  'malformed',
  'not_awaiting',
  'deadline_passed',
  'wrong_attempt',
  'wrong_proposal_hash',
  'agent_cannot_decide',
  'unknown_human',
  'unknown_key',
  'bad_signature',
  'self_approval',
  'not_in_required_group',
  'duplicate_approver',
  // Governance (docs/governance.md): overrides and their ratification.
  'justification_required',
  'not_overridable',
  'not_in_override_group',
  'nothing_to_ratify',
  'not_in_ratify_group',
] as const;
/** Why a decision was refused (stable codes, shown by the CLI and console). */
export type RefusalCode = (typeof REFUSAL_CODES)[number];

function buildRecordSchemas() {
  const { advice, approvalRequirement } = adviceSchemas();
  const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
  const attemptStatus = z.enum(ATTEMPT_STATUSES);

  const executorRetry = z.strictObject({
    initialInterval: z.string().min(1),
    backoffCoefficient: z.number().min(1, 'must be at least 1'),
    maximumInterval: z.string().min(1),
    maximumAttempts: z.number().int('must be a whole number').min(0, 'must not be negative'),
  });

  const pinnedActionType = z.strictObject({
    name: actionTypeNameSchema,
    version: digestSchema,
    retry: executorRetry,
    timeout: z.string().min(1),
  });

  const attemptContext = z.strictObject({
    capturedAt: isoTime,
    facts: jsonObjectSchema,
    factsError: z.string().nullable(),
    directory: pinnedDirectorySchema(),
    bundleVersion: digestSchema,
    actionType: pinnedActionType.nullable(),
    problems: z.array(z.string()),
  });

  const decisionChannel = z.enum(['signal', 'update']);
  // A statement as the record keeps it: validated already, so `reason` is always there (no default to fill in).
  const recordedStatement = decisionStatementSchema.extend({ reason: z.string().max(2000, 'must be at most 2000 characters') });

  const acceptedDecision = z.strictObject({
    human: humanIdSchema,
    verdict: verdictSchema,
    reason: z.string(),
    decidedAt: isoTime,
    receivedAt: isoTime,
    via: decisionChannel,
    keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/, 'must be 16 lower-case hex characters'),
    signature: z.string().regex(/^[0-9a-f]{128}$/, 'must be 128 lower-case hex characters'),
    statement: recordedStatement,
  });

  const refusedDecision = z.strictObject({
    human: z.string().nullable(),
    verdict: z.string().nullable(),
    code: z.enum(REFUSAL_CODES),
    message: z.string(),
    receivedAt: isoTime,
    via: decisionChannel,
    signature: z.string().nullable(),
    statement: recordedStatement.nullable(),
  });

  const requirementProgress = approvalRequirement.extend({
    approvedBy: z.array(humanIdSchema),
    met: z.boolean(),
    /** Overridable requirements only: who overrode it (an accepted override naming it). */
    overriddenBy: z.array(humanIdSchema).optional(),
    /** Groups made eligible by escalation (already included in `groups`). */
    escalatedTo: z.array(z.string()).optional(),
  });

  const governance = z.strictObject({
    /** Each escalation step that fired: the requirement, the step (1-based) and the groups it added. */
    escalations: z.array(z.strictObject({ policyId: z.string(), step: z.number().int().min(1), groups: z.array(z.string()), at: isoTime })),
    /** Reminders given before the deadline. */
    reminders: z.array(z.strictObject({ at: isoTime, beforeSeconds: z.number().int().positive() })),
    /** Ratification of the accepted override, when a requirement it overrode asks for one. */
    ratification: z
      .strictObject({
        groups: z.array(z.string()),
        until: isoTime,
        ratifiedBy: humanIdSchema.nullable(),
        ratifiedAt: isoTime.nullable(),
      })
      .nullable(),
    /** Early re-checks run on the `controlsChanged` signal while waiting. */
    controlRechecks: z.number().int().min(0),
  });

  const enforcement = z.strictObject({
    verdict: z.enum(['execute', 'blocked']),
    recheckAdvice: advice.nullable(),
    recheckContext: attemptContext.nullable(),
    blockedReason: z.string().nullable(),
    idempotencyKey: z.string().min(1),
    at: isoTime,
  });

  const outcome = z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), result: jsonValueSchema, finishedAt: isoTime }),
    z.strictObject({ ok: z.literal(false), error: z.strictObject({ type: z.string(), message: z.string() }), finishedAt: isoTime }),
  ]);

  const timelineEntry = z.strictObject({
    status: attemptStatus,
    at: isoTime,
    note: z.string().optional(),
    /** A governance event that is not a status change (docs/governance.md). */
    event: z.enum(['escalated', 'reminder', 'overridden', 'ratified', 'ratification_missed', 'controls_changed']).optional(),
  });

  const attemptRecord = z.strictObject({
    schema: z.literal('ecp.record.v1'),
    attemptId: z.string().min(1).max(100),
    status: attemptStatus,
    // As validated at the start, so `claims` is always there (no default to fill in).
    proposal: proposalSchema.extend({ claims: jsonObjectSchema }),
    proposalHash: digestSchema,
    context: attemptContext.nullable(),
    advice: advice.nullable(),
    deadline: isoTime.nullable(),
    requirements: z.array(requirementProgress),
    decisions: z.strictObject({
      accepted: z.array(acceptedDecision),
      refused: z.array(refusedDecision),
      refusedTotal: z.number().int('must be a whole number').min(0, 'must not be negative'),
    }),
    enforcement: enforcement.nullable(),
    outcome: outcome.nullable(),
    timeline: z.array(timelineEntry),
    /** Escalation, reminders, ratification and early re-checks; absent on attempts started before them. */
    governance: governance.optional(),
    digest: digestSchema,
  });

  return {
    attemptRecord,
    attemptStatus,
    attemptContext,
    pinnedActionType,
    executorRetry,
    acceptedDecision,
    refusedDecision,
    decisionChannel,
    requirementProgress,
    enforcement,
    outcome,
    timelineEntry,
    governance,
  };
}

/** The record schemas, built on first use (see `recordSchemas`). */
export type RecordSchemas = ReturnType<typeof buildRecordSchemas>;

/**
 * The zod schemas of the record and its parts (`attemptRecord`, `attemptContext`, `outcome` …), built on first use
 * rather than at import: workflows import this module for its types, and each zod schema costs about 0.1 ms to
 * construct in every workflow's sandbox.
 */
export function recordSchemas(): RecordSchemas {
  return sharedSchema('record', buildRecordSchemas);
}

/** Retry behaviour of an action type's executor, as Temporal retry options (durations as strings like "2s"). */
export type ExecutorRetry = z.output<RecordSchemas['executorRetry']>;

/** The action type as pinned at evaluation time: its config digest and how its executor is retried. */
export type PinnedActionType = z.output<RecordSchemas['pinnedActionType']>;

/**
 * What the plane knew when it decided. Captured by an activity, so it is pinned in history. `factsError` says why
 * facts are missing or unusable (null when the context provider answered, or none is configured); `problems` make
 * the proposal unacceptable regardless of policy (unknown agent, invalid parameters…).
 */
export type AttemptContext = z.output<RecordSchemas['attemptContext']>;

/** How a decision arrived: the `decision` signal or the `decide` update. */
export type DecisionChannel = z.output<RecordSchemas['decisionChannel']>;

/** A decision that counted: the verified statement, its signature and which registered key verified it. */
export type AcceptedDecision = z.output<RecordSchemas['acceptedDecision']>;

/** A decision that did not count, and why. `human` and `verdict` are as the sender claimed them: not trusted. */
export type RefusedDecision = z.output<RecordSchemas['refusedDecision']>;

/** One requirement of the advice and how far the accepted approvals got toward it. */
export type RequirementProgress = z.output<RecordSchemas['requirementProgress']>;

/** The workflow's verdict right before the executor would run, with the fresh context and advice it re-checked. */
export type Enforcement = z.output<RecordSchemas['enforcement']>;

/** What the executor returned, or how it failed. */
export type Outcome = z.output<RecordSchemas['outcome']>;

/** Escalations, reminders, ratification and early re-checks of one attempt (docs/governance.md). */
export type GovernanceRecord = z.output<RecordSchemas['governance']>;

/** One status change of the attempt, with an optional note saying why. */
export type TimelineEntry = z.output<RecordSchemas['timelineEntry']>;

/**
 * The one authoritative execution record, format `ecp.record.v1`: a change to its shape gets a new `schema` literal,
 * never a silent reinterpretation. `digest` is SHA-256 over the canonical JSON of everything else.
 */
export type AttemptRecord = z.output<RecordSchemas['attemptRecord']>;

/**
 * Parses a record read from outside the workflow (a query or workflow result, an evidence pack, the archive); throws
 * an `invalid_input` EcpError naming the first offending field, e.g. `invalid execution record: field
 * "decisions.accepted[0].signature" must be 128 lower-case hex characters`. Shape only: the digest, signatures and
 * authority are the verifier's to check (audit/pack/verify.ts).
 */
export function parseRecord(input: unknown, what = 'execution record'): AttemptRecord {
  return parseOrThrow(recordSchemas().attemptRecord, input, what);
}

/** The answer to a decision sent through the `decide` update. */
export interface DecisionResult {
  accepted: boolean;
  code: RefusalCode | null;
  message: string;
  status: AttemptStatus;
}
