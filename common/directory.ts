import { z } from 'zod';
import { lazySchema, sharedSchema } from './lazySchema';
import { agentIdSchema, groupIdSchema, humanIdSchema } from './proposal';

/** Ed25519 public key: 32 bytes as 64 lower-case hex characters. */
export const publicKeyHexSchema = lazySchema('directory.publicKeyHex', () =>
  z.string().regex(/^[0-9a-f]{64}$/, 'must be an Ed25519 public key: 64 lower-case hex characters'),
);

/** A human in the directory: the groups they belong to and their registered Ed25519 public keys (hex). */
export const humanSchema = lazySchema('directory.human', () =>
  z.strictObject({
    name: z.string().max(200).optional(),
    groups: z.array(groupIdSchema).default([]),
    publicKeys: z.array(publicKeyHexSchema).min(1, 'needs at least one public key (see `ecp keys new`)'),
  }),
);

const scopeSchema = lazySchema('directory.scope', () => z.string().min(1).max(128));

/** An agent in the directory: its owner (a human, who may never decide on its attempts) and its scopes. */
export const agentSchema = lazySchema('directory.agent', () =>
  z.strictObject({
    owner: humanIdSchema,
    scopes: z.array(scopeSchema).default([]),
    description: z.string().max(500).optional(),
  }),
);

/** The directory: who may propose (agents), who may decide (humans, by group), and the humans' keys. */
export const directorySchema = lazySchema('directory.directory', () =>
  z.strictObject({
    agents: z.record(agentIdSchema, agentSchema).default({}),
    humans: z.record(humanIdSchema, humanSchema).default({}),
    groups: z.record(groupIdSchema, z.strictObject({ description: z.string().max(500).optional() })).default({}),
  }),
);

/** A directory human. */
export type Human = z.output<typeof humanSchema>;
/** A directory agent. */
export type Agent = z.output<typeof agentSchema>;
/** The whole directory: agents, humans, groups. */
export type Directory = z.output<typeof directorySchema>;

function buildPinnedDirectorySchema() {
  return z.strictObject({
    version: z.string(),
    agent: agentSchema.extend({ id: agentIdSchema, scopes: z.array(scopeSchema) }).nullable(),
    humans: z.record(humanIdSchema, z.strictObject({ groups: z.array(groupIdSchema), publicKeys: z.array(publicKeyHexSchema) })),
  });
}

/**
 * The schema of the directory slice an attempt pins, built on first use (workflows pin directories but never parse
 * them). Read back from records and evidence packs, so nothing is defaulted: a parsed slice is exactly the pinned
 * one. `version` is the directory's digest, or "" in the placeholder of an attempt that pinned none.
 */
export function pinnedDirectorySchema(): ReturnType<typeof buildPinnedDirectorySchema> {
  return sharedSchema('directory.pinned', buildPinnedDirectorySchema);
}

/**
 * The part of the directory an attempt pins in history: the proposing agent and every human who could ever decide
 * (members of a group that some approval policy names, plus the agent's owner so self-approval is recognisable).
 */
export type PinnedDirectory = z.output<ReturnType<typeof pinnedDirectorySchema>>;
