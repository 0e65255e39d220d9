import { z } from 'zod';
import { agentIdSchema, groupIdSchema, humanIdSchema } from './proposal';

/** Ed25519 public key: 32 bytes as 64 lower-case hex characters. */
export const publicKeyHexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be an Ed25519 public key: 64 lower-case hex characters');

export const humanSchema = z.strictObject({
  name: z.string().max(200).optional(),
  groups: z.array(groupIdSchema).default([]),
  publicKeys: z.array(publicKeyHexSchema).min(1, 'needs at least one public key (see `ecp keys new`)'),
});

export const agentSchema = z.strictObject({
  owner: humanIdSchema,
  scopes: z.array(z.string().min(1).max(128)).default([]),
  description: z.string().max(500).optional(),
});

/** The directory: who may propose (agents), who may decide (humans, by group), and the humans' keys. */
export const directorySchema = z.strictObject({
  agents: z.record(agentIdSchema, agentSchema).default({}),
  humans: z.record(humanIdSchema, humanSchema).default({}),
  groups: z.record(groupIdSchema, z.strictObject({ description: z.string().max(500).optional() })).default({}),
});

export type Human = z.output<typeof humanSchema>;
export type Agent = z.output<typeof agentSchema>;
export type Directory = z.output<typeof directorySchema>;

/**
 * The part of the directory an attempt pins in history: the proposing agent and every human who could ever decide
 * (members of a group that some approval policy names, plus the agent's owner so self-approval is recognisable).
 */
export interface PinnedDirectory {
  version: string;
  agent: ({ id: string } & Agent) | null;
  humans: Record<string, { groups: string[]; publicKeys: string[] }>;
}
