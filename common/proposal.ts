import { z } from 'zod';
import { LIMITS } from './constants';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, digestOf, sha256Hex } from './canonical';
import { EcpError } from './errors';
import { assertKeepable } from './jsonSafety';
import { lazySchema } from './lazySchema';
import { parseOrThrow } from './validation';

// Schemas here and across common/ are built on first use (see common/lazySchema.ts).
const identifier = lazySchema('proposal.identifier', () =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'must start with a letter or digit and use only letters, digits, . _ @ -'),
);

/** An agent ID in the directory. */
export const agentIdSchema = identifier;
/** A human ID in the directory (also the name of their key file). */
export const humanIdSchema = identifier;
/** A group ID in the directory. */
export const groupIdSchema = identifier;

/** An action type name: dotted lower-case words, e.g. `payments.refund`. */
export const actionTypeNameSchema = lazySchema('proposal.actionTypeName', () =>
  z
    .string()
    .max(128, 'must be at most 128 characters')
    .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, 'must be dotted lower-case words, e.g. "payments.refund"'),
);

/** A `sha256:<64 hex>` digest (proposal hashes, record digests, bundle and directory versions). */
export const digestSchema = lazySchema('proposal.digest', () =>
  z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be "sha256:" followed by 64 hex characters'),
);

/** Any plain JSON value. One instance, shared by every schema that holds JSON (the API names it once, as a component). */
// Built at load, not lazily: the API names this very instance as a component, and z.json()'s recursion refers to
// the instance itself, not to a lazy stand-in. (A z.lazy: cheap to construct.)
export const jsonValueSchema = z.json();

/** A JSON object (parameters, claims, facts): string keys, plain JSON values. */
export const jsonObjectSchema = lazySchema('proposal.jsonObject', () => z.record(z.string(), jsonValueSchema));
const jsonObject = jsonObjectSchema;

/**
 * What an agent asks to do. Immutable once an attempt starts: the workflow hashes exactly this object, and every
 * approval binds to that hash.
 */
export const proposalSchema = lazySchema('proposal.proposal', () =>
  z.strictObject({
    agent: agentIdSchema,
    actionType: actionTypeNameSchema,
    resource: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    parameters: jsonObject,
    justification: z
      .string()
      .min(1, 'must say why the action is needed')
      .max(LIMITS.justificationChars, `must be at most ${LIMITS.justificationChars} characters`),
    claims: jsonObject.default({}),
    idempotencyKey: z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .regex(/^[A-Za-z0-9._:-]+$/, 'must use only letters, digits, . _ : -'),
  }),
);

/** A validated proposal, exactly as hashed. */
export type Proposal = z.output<typeof proposalSchema>;
/** A proposal as callers write it (`claims` may be omitted: the client library sends `{}`). */
export type ProposalInput = z.input<typeof proposalSchema>;

/**
 * Validates shape and size; the error names the field and the limit. Refuses keys and numbers that cannot be kept
 * exactly (`__proto__`, numbers beyond ±2^53, see common/jsonSafety.ts) instead of letting a copy drop or round them.
 * Fills in `claims: {}` when absent. Safe in workflows (pure).
 */
export function parseProposal(input: unknown): Proposal {
  assertKeepable(input, 'proposal');
  return parseProposalShape(input);
}

/**
 * Shape and size only, as before the keepability checks: the workflow's path for histories started before the
 * `strict-proposal-input` patch, so they replay as they ran.
 */
export function parseProposalShape(input: unknown): Proposal {
  return checkedShape(input).proposal;
}

/** Shape and size, and the canonical JSON text the size was measured on (so a caller hashes it without redoing it). */
function checkedShape(input: unknown): { proposal: Proposal; text: string } {
  const proposal = parseOrThrow(proposalSchema, input, 'proposal');
  const text = canonicalJson(proposal);
  const size = utf8ToBytes(text).length;
  if (size > LIMITS.proposalBytes) {
    throw new EcpError(
      'too_large',
      `proposal is ${size} bytes of canonical JSON; the limit is ${LIMITS.proposalBytes} bytes`,
      'parameters',
    );
  }
  return { proposal, text };
}

/**
 * A workflow start input's proposal, taken exactly as given: besides {@link parseProposal}'s checks it refuses any
 * input that validation would change (a missing `claims`, anything a copy drops), so the proposal hash is the
 * RFC 8785 hash of the start input itself and an auditor can recompute it from the history.
 */
export function parseStartProposal(input: unknown): Proposal {
  return parseStartProposalHashed(input).proposal;
}

/**
 * {@link parseStartProposal}, and the proposal hash from the same canonical JSON text: the workflow's start path,
 * which so canonicalises the proposal twice (validated and as given) instead of four times. The hash is exactly
 * {@link proposalHash} of the returned proposal.
 */
export function parseStartProposalHashed(input: unknown): { proposal: Proposal; hash: string } {
  assertKeepable(input, 'proposal');
  const { proposal, text } = checkedShape(input);
  // The common case in one comparison: the input is canonically the validated proposal. Otherwise the field-by-field
  // check below finds the field at fault (and throws exactly as it always did).
  if (!sameCanonicalJson(input, text)) {
    const given = input as Record<string, unknown>;
    for (const key of Object.keys(proposal) as (keyof Proposal)[]) {
      if (!Object.hasOwn(given, key)) {
        throw new EcpError(
          'invalid_input',
          `invalid proposal: field "${key}" is required in a start input (the hash covers the input exactly; send {} for none)`,
          key,
        );
      }
      if (canonicalJson(given[key]) !== canonicalJson(proposal[key])) {
        throw new EcpError(
          'invalid_input',
          `invalid proposal: field "${key}" would be changed by validation; it must be plain JSON kept exactly`,
          key,
        );
      }
    }
  }
  return { proposal, hash: `sha256:${sha256Hex(text)}` };
}

function sameCanonicalJson(value: unknown, text: string): boolean {
  try {
    return canonicalJson(value) === text;
  } catch {
    return false;
  }
}

/** The proposal hash: SHA-256 over the RFC 8785 canonical JSON of the whole proposal. */
export function proposalHash(proposal: Proposal): string {
  return digestOf(proposal);
}

/**
 * The attempt ID (= workflow ID) is derived from agent + idempotency key, so a repeated start finds the same
 * workflow through Temporal's own ID conflict policy — no side table.
 */
export function attemptIdFor(agent: string, idempotencyKey: string): string {
  return `att-${sha256Hex(`${agent}\u0000${idempotencyKey}`).slice(0, 32)}`;
}
