import { tool, type FunctionTool, type RunContext } from '@openai/agents';
import { z } from 'zod';
import type { GovernedAnswer } from './answers';
import {
  governedStatusLookup,
  resolveGovernedAction,
  runGovernedCall,
  type GovernedActionOptions,
  type GovernedStatusOptions,
} from './governedCall';

/** A governed tool for the OpenAI Agents SDK: name, description, zod parameters, and how calls become proposals. */
export interface GovernedAgentToolOptions<Parameters extends z.ZodObject> extends Omit<
  GovernedActionOptions<z.output<Parameters>>,
  'parameters'
> {
  /** The tool's name as the model calls it. */
  name: string;
  /** What the model reads about the tool. */
  description: string;
  /** The tool's parameters (a zod object; the SDK validates the model's arguments against it). */
  parameters: Parameters;
  /** The proposal's parameters from the tool input (default: the input itself). */
  toParameters?: GovernedActionOptions<z.output<Parameters>>['parameters'];
  /**
   * The SDK's `errorFunction` for errors the tool throws (a plane that cannot be reached, a refused proposal, a denial
   * with `throwOnDenial`): default the SDK's own generic message to the model; `null` makes the run throw instead.
   */
  errorFunction?: ((context: RunContext<unknown>, error: unknown) => string | Promise<string>) | null;
}

/**
 * An OpenAI Agents SDK (`@openai/agents` 0.20) `FunctionTool` whose execution is an ECP attempt: the plane's executor
 * performs the action; the tool never does. The tool's output is a string: the executor's result as JSON when the
 * attempt SUCCEEDED, otherwise plain text the model reads — the policy's reasons when DENIED (thrown as an
 * `EcpError` only with `throwOnDenial`, which the SDK's `errorFunction` then reports), REJECTED / EXPIRED / FAILED /
 * CANCELLED each in its own words, and a non-error "pending human approval" answer (attempt ID, deadline, console
 * link) when no decision came within the hold time.
 *
 * Idempotency: the key is derived from the SDK's function-call `callId` when the run passes it (see
 * adapters/idempotency.ts), else from the canonical parameters and a time window; a re-run call never executes
 * twice. Options are validated here: a bad one throws an `EcpError` naming the field.
 */
export function governedAgentTool<Parameters extends z.ZodObject>(
  options: GovernedAgentToolOptions<Parameters>,
): FunctionTool<unknown, Parameters, string> {
  // `parameters` is the zod schema here (the SDK's word); the proposal mapping is `toParameters`.
  const action = resolveGovernedAction({ ...options, parameters: options.toParameters }, options.name);
  const made = tool({
    name: options.name,
    description: options.description,
    // The SDK's types cannot narrow a generic zod object; the schema is passed as given and validated by the SDK.
    parameters: options.parameters as z.ZodObject,
    ...(options.errorFunction !== undefined ? { errorFunction: options.errorFunction } : {}),
    execute: async (input, _context, details) => {
      return modelText(await runGovernedCall(action, input as z.output<Parameters>, details?.toolCall?.callId, details?.signal));
    },
  });
  return made as unknown as FunctionTool<unknown, Parameters, string>;
}

/**
 * A read-only Agents SDK tool (`ecp_attempt_status` unless named otherwise) the model calls with an attempt ID (from
 * a "pending" answer) to learn its outcome, as the same string a governed tool answers. Only attempts of
 * `options.agent` are reported; any other ID is answered as unknown. Proposes, decides and runs nothing.
 */
export function governedAgentStatusTool(options: GovernedStatusOptions & { name?: string }): FunctionTool<unknown, z.ZodObject, string> {
  const lookup = governedStatusLookup(options);
  const made = tool({
    name: options.name ?? 'ecp_attempt_status',
    description: 'Look up the outcome of an earlier governed action by its attempt ID (e.g. one pending human approval).',
    parameters: z.object({ attemptId: z.string().describe('the attempt ID, att-…') }),
    execute: async ({ attemptId }, _context, details) => {
      const answer = await lookup(attemptId, details?.signal);
      return typeof answer === 'string' ? answer : modelText(answer);
    },
  });
  return made as unknown as FunctionTool<unknown, z.ZodObject, string>;
}

/** The string the model reads: the executor's result as JSON when the attempt succeeded, else the answer's text. */
function modelText(answer: GovernedAnswer): string {
  if (answer.outcome !== 'succeeded') return answer.text;
  return typeof answer.result === 'string' ? answer.result : JSON.stringify(answer.result ?? null);
}
