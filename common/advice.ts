import { z } from 'zod';
import { sharedSchema } from './lazySchema';
import { digestSchema } from './proposal';

/**
 * Built on first use, not at import: workflows build advice but never parse it, and each zod schema costs about
 * 0.1 ms to construct in every workflow's sandbox.
 */
function buildAdviceSchemas() {
  const group = z.string().min(1, 'must not be empty');
  const seconds = z.number().int('must be a whole number').positive('must be positive');
  /** What one approval policy requires: `quorum` distinct humans from any of `groups`, before `deadline`. */
  const approvalRequirement = z.strictObject({
    policyId: z.string().min(1, 'must not be empty'),
    groups: z.array(z.string().min(1, 'must not be empty')),
    quorum: z.number().int('must be a whole number').min(1, 'must be at least 1'),
    /** Seconds from the moment the attempt starts waiting. */
    deadlineSeconds: z.number().int('must be a whole number').positive('must be positive'),
    /** Only fail-closed expiry exists today: the attempt ends EXPIRED and nothing runs. */
    onExpiry: z.literal('expire'),
    // Governance (docs/governance.md). Optional, so advice given before them reads back unchanged.
    /** `override`: an overridable forbid (policyId names it); only an override meets it, never approvals. */
    kind: z.literal('override').optional(),
    /** Groups whose signed override meets this requirement on its own (`@override_by`). */
    overrideBy: z.array(group).min(1).optional(),
    /** An override of this requirement must be countersigned by another human of `groups` within `withinSeconds`. */
    ratify: z.strictObject({ groups: z.array(group).min(1), withinSeconds: seconds }).optional(),
    /** Escalation chain: after `afterSeconds` of waiting without the quorum, `groups` become eligible too (widening). */
    escalations: z.array(z.strictObject({ afterSeconds: seconds, groups: z.array(group).min(1) })).optional(),
    /** Reminders this many seconds before the deadline (timeline entries while the quorum is still missing). */
    remindBeforeSeconds: z.array(seconds).optional(),
  });
  const adviceVerdict = z.enum(['allow', 'deny', 'require_approval']);
  const advice = z.strictObject({
    verdict: adviceVerdict,
    requirements: z.array(approvalRequirement),
    policyIds: z.array(z.string()),
    reasons: z.array(z.string()),
    errors: z.array(z.string()),
    bundleVersion: digestSchema,
  });
  return { approvalRequirement, adviceVerdict, advice };
}

/** The advice schemas, built on first use (see `adviceSchemas`). */
export type AdviceSchemas = ReturnType<typeof buildAdviceSchemas>;

/** The zod schemas of advice (`advice`, `approvalRequirement`, `adviceVerdict`), built on first use. */
export function adviceSchemas(): AdviceSchemas {
  return sharedSchema('advice', buildAdviceSchemas);
}

/** What one approval policy requires: `quorum` distinct humans from any of `groups`, before `deadline`. */
export type ApprovalRequirement = z.output<AdviceSchemas['approvalRequirement']>;

/** The policy engine's verdict: `allow`, `deny` or `require_approval`. */
export type AdviceVerdict = z.output<AdviceSchemas['adviceVerdict']>;

/**
 * The policy engine's output. Advice never runs anything; the workflow enforces it.
 * `policyIds` are the determining policies (satisfied permits for allow/approval, satisfied forbids for deny;
 * empty for default deny). `errors` name policies that failed to evaluate — any error makes the advice deny.
 */
export type Advice = z.output<AdviceSchemas['advice']>;
