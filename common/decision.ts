import { z } from 'zod';
import { lazySchema } from './lazySchema';
import { digestSchema, humanIdSchema } from './proposal';

/**
 * What a human decides: approve or reject; `override` (break-glass: meets the overridable requirements it names, with
 * a mandatory justification in `reason`); `ratify` (countersigns an accepted override). See docs/governance.md.
 */
export const verdictSchema = lazySchema('decision.verdict', () => z.enum(['approve', 'reject', 'override', 'ratify']));
/** `approve`, `reject`, `override` or `ratify`. */
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * What a human signs. It names the attempt and the proposal hash, so a signature cannot be replayed on another
 * attempt or on edited arguments.
 */
export const decisionStatementSchema = lazySchema('decision.statement', () =>
  z.strictObject({
    v: z.literal(1),
    attemptId: z.string().min(1).max(100),
    proposalHash: digestSchema,
    verdict: verdictSchema,
    human: humanIdSchema,
    reason: z.string().max(2000, 'must be at most 2000 characters').default(''),
    decidedAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
    /** An override names exactly the policy ids (overridable requirements or forbids) it overrides; signed with the rest. */
    overrides: z.array(z.string().min(1).max(200)).min(1, 'must name at least one policy id').max(20).optional(),
  }),
);
/** The statement a human signs (see `decisionStatementSchema`). */
export type DecisionStatement = z.output<typeof decisionStatementSchema>;

/**
 * The payload of the `decision` signal and the `decide` update. `key` names the signing key by its fingerprint (not
 * signed: it only lets the workflow refuse a key that is not registered without checking any signature). Attempts
 * started by this version require it; attempts started before it accept decisions without it.
 */
export const signedDecisionSchema = lazySchema('decision.signed', () =>
  z.strictObject({
    statement: decisionStatementSchema,
    signature: z.string().regex(/^[0-9a-f]{128}$/, 'must be an Ed25519 signature: 128 lower-case hex characters'),
    key: z
      .string()
      .regex(/^[0-9a-f]{16}$/, "must be the signing key's fingerprint: 16 lower-case hex characters")
      .optional(),
  }),
);
/** A signed decision as the `decision` signal and `decide` update carry it. */
export type SignedDecision = z.output<typeof signedDecisionSchema>;
