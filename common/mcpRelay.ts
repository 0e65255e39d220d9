import { defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { canonicalSize } from './canonical';
import { lazySchema } from './lazySchema';
import type { JsonValue } from './record';

/*
 * The relay of a downstream server's requests (elicitation, sampling) to the agent's client, through Temporal only:
 * the worker running a tool call starts one `mcpRelay` workflow per request; the gateway holding that call claims it,
 * asks the agent's client and answers it (docs/mcp.md, "Elicitation and sampling"). Sandbox-safe.
 */

/** Workflow type of a relayed request; never an attempt (listings filter on the attempt workflow types). */
export const MCP_RELAY_WORKFLOW = 'mcpRelay';
/** The server→client requests the plane relays. */
export const MCP_RELAY_METHODS = ['elicitation/create', 'sampling/createMessage'] as const;
/** One of MCP_RELAY_METHODS. */
export type McpRelayMethod = (typeof MCP_RELAY_METHODS)[number];
/** Largest request or answer a relay carries (canonical JSON bytes): it is kept in the relay's history. */
export const MCP_RELAY_MAX_BYTES = 256 * 1024;
/** How long a relay waits for a gateway to claim it before it ends refused (nobody holds the call). */
export const MCP_RELAY_CLAIM_MS = 5_000;

/** The n-th relay of an attempt: `<attemptId>-relay-<n>`, n = 1, 2, … in the order the worker started them. */
export function mcpRelayId(attemptId: string, n: number): string {
  return `${attemptId}-relay-${n}`;
}

/** The relay workflow's input: the request as the downstream server sent it, and how long it waits. */
export interface McpRelayInput {
  attemptId: string;
  method: McpRelayMethod;
  /** The downstream request's params, as sent. */
  params: Record<string, JsonValue>;
  /** Wait for a claim (ms); then refused. */
  claimMs: number;
  /** Wait for the answer after a claim (ms); then refused. */
  answerMs: number;
}

/**
 * How a relay ends: the agent client's result (`answer`), its JSON-RPC error (`error`), or `refused` — the client did
 * not declare the capability, or nobody answered in time. The worker turns `refused` into a clean refusal downstream.
 */
export type McpRelayOutcome =
  | { kind: 'answer'; result: Record<string, JsonValue> }
  | { kind: 'error'; code: number; message: string }
  | { kind: 'refused'; reason: string };

const jsonObject = lazySchema(
  'mcpRelay.jsonObject',
  () => z.record(z.string(), z.json()) as unknown as z.ZodType<Record<string, JsonValue>>,
);
const sized = <T>(schema: z.ZodType<T>) =>
  schema.refine((v) => canonicalSize(v) <= MCP_RELAY_MAX_BYTES, `must be at most ${MCP_RELAY_MAX_BYTES} bytes as canonical JSON`);

/** The answer update's payload, validated before it is accepted (a refused update leaves no trace in history). */
export const mcpRelayOutcomeSchema = lazySchema('mcpRelay.outcome', () =>
  sized(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('answer'), result: jsonObject }).strict(),
      z.object({ kind: z.literal('error'), code: z.number().int(), message: z.string().max(4000) }).strict(),
      z.object({ kind: z.literal('refused'), reason: z.string().min(1).max(4000) }).strict(),
    ]) as z.ZodType<McpRelayOutcome>,
  ),
);

/** Claims the relay for the gateway that holds the call; returns the request. Refused once claimed or ended. */
export const mcpRelayClaimUpdate = defineUpdate<{ method: McpRelayMethod; params: Record<string, JsonValue> }, []>('mcpRelayClaim');
/** The claimant's answer; ends the relay. Refused unless claimed and not yet answered, or when malformed. */
export const mcpRelayAnswerUpdate = defineUpdate<void, [McpRelayOutcome]>('mcpRelayAnswer');
