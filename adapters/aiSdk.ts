import { tool, type FlexibleSchema, type Tool } from 'ai';
import type { JsonValue } from '../common';
import { z } from 'zod';
import {
  governedStatusLookup,
  resolveGovernedAction,
  runGovernedCall,
  type GovernedActionOptions,
  type GovernedStatusOptions,
} from './governedCall';

/** A governed tool for the Vercel AI SDK: its description and input schema, and how calls become proposals. */
export interface GovernedToolOptions<Input> extends GovernedActionOptions<Input> {
  /** What the model reads about the tool. */
  description: string;
  /** The tool's input schema (a zod schema, or the AI SDK's `jsonSchema(...)`); the SDK validates the model's input. */
  inputSchema: FlexibleSchema<Input>;
  /** The tool's name in answers and the default justification (default: the action type). */
  name?: string;
}

/**
 * A Vercel AI SDK (`ai` v7) tool whose execution is an ECP attempt: the plane's executor performs the action; the
 * tool never does. The model receives the executor's result when the attempt SUCCEEDED, and plain text otherwise:
 * the policy's reasons when DENIED (thrown as an `EcpError` only with `throwOnDenial`), REJECTED / EXPIRED / FAILED
 * / CANCELLED each in its own words, and a non-error "pending human approval" answer (attempt ID, deadline, console
 * link) when no decision came within the hold time.
 *
 * Idempotency: the key is derived from the AI SDK's `toolCallId` (see adapters/idempotency.ts), so a re-executed
 * call reaches the same attempt and never runs twice. Options are validated here: a bad one throws an `EcpError`
 * naming the field.
 */
export function governedTool<Input>(options: GovernedToolOptions<Input>): Tool<Input, JsonValue> {
  const action = resolveGovernedAction(options, options.name ?? options.actionType);
  return tool<Input, JsonValue, Record<string, never>>({
    description: options.description,
    inputSchema: options.inputSchema,
    execute: async (input, { toolCallId, abortSignal }) => {
      const answer = await runGovernedCall(action, input, toolCallId, abortSignal);
      return answer.outcome === 'succeeded' ? (answer.result ?? null) : answer.text;
    },
  });
}

/**
 * A read-only AI SDK tool the model calls with an attempt ID (from a "pending" answer) to learn its outcome: the
 * executor's result once SUCCEEDED, otherwise the same plain text a governed tool answers. Only attempts of
 * `options.agent` are reported; any other ID is answered as unknown. Proposes, decides and runs nothing.
 */
export function governedStatusTool(options: GovernedStatusOptions): Tool<{ attemptId: string }, JsonValue> {
  const lookup = governedStatusLookup(options);
  return tool<{ attemptId: string }, JsonValue, Record<string, never>>({
    description: 'Look up the outcome of an earlier governed action by its attempt ID (e.g. one pending human approval).',
    inputSchema: z.object({ attemptId: z.string().describe('the attempt ID, att-…') }),
    execute: async ({ attemptId }, { abortSignal }) => {
      const answer = await lookup(attemptId, abortSignal);
      if (typeof answer === 'string') return answer;
      return answer.outcome === 'succeeded' ? (answer.result ?? null) : answer.text;
    },
  });
}
