import { z } from '@hono/zod-openapi';
import { ATTEMPT_STATUSES, recordSchemas } from '../common/record';
import { signedDecisionSchema } from '../common/decision';
import { actionTypeNameSchema, agentIdSchema, humanIdSchema, jsonValueSchema } from '../common/proposal';

/** Request and response shapes of the console API; the OpenAPI document is generated from these. */

export const signInSchema = z
  .strictObject({
    human: humanIdSchema.describe('a human ID from the directory'),
    secret: z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .openapi({ description: 'the sign-in secret (token or password)' }),
  })
  .openapi('SignIn');

export const signInMethodsSchema = z
  .object({
    secret: z.boolean().openapi({ description: 'whether POST /api/session with a human ID and secret is offered' }),
    oidc: z
      .object({ label: z.string(), startUrl: z.string().openapi({ description: 'navigate the browser here to sign in' }) })
      .nullable()
      .openapi({ description: 'single sign-on (OpenID Connect), when configured' }),
  })
  .openapi('SignInMethods');

export const sessionSchema = z
  .object({
    human: z.string(),
    name: z.string().nullable(),
    groups: z.array(z.string()),
    publicKeys: z.array(z.string()).openapi({ description: "the human's registered Ed25519 public keys (hex)" }),
    method: z.string().openapi({ description: 'how the human signed in: "secret" or "oidc"' }),
    csrfToken: z.string().openapi({ description: 'send as the `x-csrf-token` header on every POST/DELETE' }),
    expiresAt: z.string().openapi({ description: 'when the session ends if unused' }),
  })
  .openapi('Session');

export const attemptSummarySchema = z
  .object({
    attemptId: z.string(),
    status: z.string(),
    agent: z.string().nullable(),
    actionType: z.string().nullable(),
    resource: z.string().nullable(),
    awaitingGroups: z.array(z.string()),
    deadline: z.string().nullable(),
    startedAt: z.string(),
    closedAt: z.string().nullable(),
    summary: z.string().nullable().optional().openapi({
      description:
        "inbox only: one-line summary from the action type's `summary` template (plain text); null without a template or when the record could not be read in time",
    }),
    escalatedTo: z.array(z.string()).optional().openapi({
      description:
        'awaiting attempts: the groups escalation made eligible besides those policy named at first (empty: not escalated, or its record could not be read in time)',
    }),
  })
  .openapi('AttemptSummary');

export const attemptListSchema = z.object({ count: z.number().int(), attempts: z.array(attemptSummarySchema) }).openapi('AttemptList');

export const attemptQuerySchema = z.strictObject({
  status: z
    .enum(ATTEMPT_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' } }),
  agent: agentIdSchema.optional(),
  actionType: actionTypeNameSchema.optional(),
  limit: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(500, 'must be at most 500')
    .default(100)
    .openapi({ param: { name: 'limit', in: 'query' } }),
});

export const attemptIdParamSchema = z.object({
  attemptId: z
    .string()
    .regex(/^att-[0-9a-f]{32}$/, 'must be an attempt ID like att-<32 hex characters>')
    .openapi({ param: { name: 'attemptId', in: 'path' }, example: 'att-0123456789abcdef0123456789abcdef' }),
});

const jsonValue = z.unknown().openapi({ description: 'any JSON value' });

export const claimCheckSchema = z
  .object({ key: z.string(), claimed: z.boolean(), claim: jsonValue, verified: z.boolean(), fact: jsonValue, mismatch: z.boolean() })
  .openapi('ClaimCheck');

/**
 * `.openapi(name, metadata)` for a schema built in common/: zod gives a schema the method @hono/zod-openapi adds only
 * if it is built after that module loaded, and common/ schemas may be built first (at import, or lazily by whichever
 * reader parses first). The method itself works on any schema.
 */
function named<S extends z.ZodType>(schema: S, name: string, description: string): S {
  return z.ZodType.prototype.openapi.call(schema, name, { description }) as S;
}

// Names the shared JSON value schema (a recursive z.lazy) as a component. On a lazy schema, zod-to-openapi puts the
// name on the very instance too, so every schema nesting it (the record's proposal, facts, outcome) refers to the
// component; without a name, generating the document recurses without end.
named(jsonValueSchema, 'JsonValue', 'any JSON value');

/**
 * The record schema itself (common/record.ts), so the document describes exactly what `ecp show --json` prints and
 * what every reader parses. A component of its own, for clients to generate a type from.
 */
export const recordSchema = named(
  recordSchemas().attemptRecord,
  'AttemptRecord',
  'the authoritative execution record (ecp.record.v1), exactly as `ecp show --json` prints it',
);

export const attemptViewSchema = z
  .object({
    record: recordSchema,
    claims: z.array(claimCheckSchema).openapi({ description: "the agent's claims beside the verified facts (same rule as `ecp show`)" }),
    textWarnings: z.array(z.object({ path: z.string(), kind: z.enum(['not_nfc', 'mixed_scripts']), message: z.string() })).openapi({
      description: 'parameter and claim strings that may look like a different value: not NFC-normalised, or a word mixing scripts',
    }),
    viewer: z.object({
      mayDecide: z.boolean().openapi({ description: 'advisory: the workflow makes the final check' }),
      why: z.string().nullable().openapi({ description: 'why this human cannot decide, when they cannot' }),
      mayOverride: z.boolean().openapi({ description: 'advisory: whether this human may submit a break-glass override now' }),
      overridable: z
        .array(z.string())
        .openapi({ description: 'the policy ids (unmet, overridable by a group of this human) an override from them would name' }),
      whyNoOverride: z.string().nullable().openapi({ description: 'why this human cannot override, when they cannot' }),
      mayRatify: z
        .boolean()
        .openapi({ description: "advisory: whether this human may countersign (ratify) the attempt's accepted override now" }),
      whyNoRatify: z
        .string()
        .nullable()
        .openapi({ description: 'why this human cannot ratify an override that awaits ratification; null when none awaits it' }),
    }),
    serverTime: z.string(),
    summary: z
      .string()
      .nullable()
      .openapi({ description: "one-line summary from the action type's `summary` template (plain text), null without one" }),
  })
  .openapi('AttemptView');

/** The shared schema itself (common/decision.ts), so the API accepts exactly what the workflow verifies. */
export const decisionRequestSchema = signedDecisionSchema.describe(
  'a decision statement signed with the human\'s Ed25519 key over "ecp.decision.v1:" + RFC 8785 canonical JSON of the statement',
);

export const decisionResultSchema = z
  .object({ accepted: z.literal(true), code: z.null(), message: z.string(), status: z.string() })
  .openapi('DecisionResult');
