import { z } from 'zod';
import { EcpClient } from '../client/ecpClient';
import {
  actionTypeNameSchema,
  agentIdSchema,
  EcpError,
  jsonObjectSchema,
  parseOrThrow,
  type AttemptRecord,
  type JsonValue,
} from '../common';
import { parseDuration } from '../common/duration';
import { answerFor, type GovernedAnswer } from './answers';
import { idempotencyKeyFor } from './idempotency';

/** Default time a governed call waits for the outcome before answering "pending human approval". */
export const DEFAULT_HOLD_TIME = '30s';
/** Default window in which identical calls without a tool-call ID are the same attempt. */
export const DEFAULT_IDEMPOTENCY_WINDOW = '10m';
/** Default console address for links (`npm start` serves the console on port 8088); ECP_CONSOLE_URL overrides it. */
export const DEFAULT_CONSOLE_URL = 'http://localhost:8088';

/**
 * How a tool's input becomes an ECP proposal, and how long the tool waits for the outcome. Shared by every
 * framework adapter (adapters/aiSdk.ts, adapters/openaiAgents.ts). Every callback must be deterministic in the
 * input: the same call must map to the same proposal, or a retry of it is refused as a conflict.
 */
export interface GovernedActionOptions<Input> {
  /** The client that proposes (its `config`, when given, lets bad parameters be refused before anything starts). */
  ecp: EcpClient;
  /** The agent ID in the plane's directory that proposes each call. */
  agent: string;
  /** The action type each call proposes, e.g. `payments.refund`; the plane's executor performs it. */
  actionType: string;
  /** The proposal's parameters from the tool input (default: the input itself, which must be a JSON object). */
  parameters?: (input: Input) => Record<string, JsonValue>;
  /** The proposal's resource (default: the action type name). */
  resource?: (input: Input) => string;
  /** Why the agent asks (default: "<tool name> tool call by <agent>"). */
  justification?: (input: Input) => string;
  /** The agent's claims (unverified; policies should rely on verified facts instead). Default: none. */
  claims?: (input: Input) => Record<string, JsonValue>;
  /** How long a call waits for the outcome before answering "pending": ms, or a duration like "30s". Default 30s. */
  holdTime?: number | string;
  /** Window for the idempotency key of calls without a tool-call ID: ms, or a duration like "10m". Default 10m. */
  idempotencyWindow?: number | string;
  /** The console's base URL for links (default: ECP_CONSOLE_URL, else http://localhost:8088). */
  consoleUrl?: string;
  /**
   * True: a DENIED call throws an `EcpError` (code `refused`) instead of answering the model with the reasons.
   * Default false: a refusal is an answer the model can read and act on, not a crash.
   */
  throwOnDenial?: boolean;
}

/** The options after validation, with defaults filled in. */
export interface ResolvedGovernedAction<Input> {
  ecp: EcpClient;
  agent: string;
  actionType: string;
  parameters: (input: Input) => Record<string, JsonValue>;
  resource: (input: Input) => string;
  justification: (input: Input) => string;
  claims: (input: Input) => Record<string, JsonValue>;
  holdMs: number;
  windowMs: number;
  consoleUrl: string;
  throwOnDenial: boolean;
}

const callback = z.custom<(input: unknown) => unknown>((v) => typeof v === 'function', 'must be a function').optional();
/** Milliseconds (a positive whole number) or a duration text; converted to milliseconds. */
const duration = z
  .custom<number | string>(
    (v) => (typeof v === 'number' ? Number.isInteger(v) && v > 0 : typeof v === 'string' && isDuration(v)),
    'must be whole milliseconds (a positive integer) or a duration like 30s, 10m, 4h or 2d',
  )
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v) * 1000));

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}
const optionsSchema = z.object({
  ecp: z.instanceof(EcpClient, { message: 'must be an EcpClient' }),
  agent: agentIdSchema,
  actionType: actionTypeNameSchema,
  parameters: callback,
  resource: callback,
  justification: callback,
  claims: callback,
  holdTime: duration.optional(),
  idempotencyWindow: duration.optional(),
  consoleUrl: z.url('must be a URL such as http://localhost:8088').optional(),
  throwOnDenial: z.boolean().optional(),
});

/**
 * Validates a governed tool's options once, when the tool is made: a bad option throws an `EcpError`
 * (`invalid_input`) naming the field, so a misconfigured tool never reaches a model.
 */
export function resolveGovernedAction<Input>(options: GovernedActionOptions<Input>, toolName: string): ResolvedGovernedAction<Input> {
  const parsed = parseOrThrow(optionsSchema, options, 'governed tool options');
  const consoleUrl = parsed.consoleUrl ?? process.env.ECP_CONSOLE_URL ?? DEFAULT_CONSOLE_URL;
  return {
    ecp: options.ecp,
    agent: parsed.agent,
    actionType: parsed.actionType,
    parameters: options.parameters ?? ((input) => parseOrThrow(jsonObjectSchema, input, 'tool input') as Record<string, JsonValue>),
    resource: options.resource ?? (() => parsed.actionType),
    justification: options.justification ?? (() => `${toolName} tool call by ${parsed.agent}`),
    claims: options.claims ?? (() => ({})),
    holdMs: parsed.holdTime ?? parseDuration(DEFAULT_HOLD_TIME) * 1000,
    windowMs: parsed.idempotencyWindow ?? parseDuration(DEFAULT_IDEMPOTENCY_WINDOW) * 1000,
    consoleUrl,
    throwOnDenial: parsed.throwOnDenial ?? false,
  };
}

/**
 * One governed tool call: proposes an attempt for the input, waits up to the hold time for it to close, and
 * answers. The agent never performs the action: the plane's executor does, once, if and when the attempt is allowed.
 *
 * Idempotent: the attempt ID comes from the agent and `idempotencyKeyFor` (the tool-call ID when given, else the
 * canonical parameters and a time window), so a re-run of the same call reaches the same attempt and gets its
 * outcome, never a second execution. Not retried here: a proposal the plane refuses (bad parameters, a key reused
 * for another proposal) throws an `EcpError` naming the field, as does a plane that cannot be reached.
 *
 * @param toolCallId the framework's ID for this call, when it has one.
 * @param signal the framework's abort signal: aborting stops the wait (the attempt itself goes on).
 */
export async function runGovernedCall<Input>(
  action: ResolvedGovernedAction<Input>,
  input: Input,
  toolCallId?: string,
  signal?: AbortSignal,
): Promise<GovernedAnswer> {
  const parameters = action.parameters(input);
  const idempotencyKey = idempotencyKeyFor({ actionType: action.actionType, parameters, toolCallId, windowMs: action.windowMs });
  const { attemptId } = await action.ecp.propose({
    agent: action.agent,
    actionType: action.actionType,
    resource: action.resource(input),
    parameters,
    justification: action.justification(input),
    claims: action.claims(input),
    idempotencyKey,
  });
  // Still open after the hold time: the live record (a closed attempt's getRecord is its final record).
  const record = (await waitForClose(action.ecp, attemptId, action.holdMs, signal)) ?? (await action.ecp.getRecord(attemptId));
  const answer = answerFor(record, action.consoleUrl);
  if (answer.outcome === 'denied' && action.throwOnDenial) throw new EcpError('refused', answer.text);
  return answer;
}

/** The closed attempt's record, or null when it is still open after `holdMs`. */
async function waitForClose(ecp: EcpClient, attemptId: string, holdMs: number, signal?: AbortSignal): Promise<AttemptRecord | null> {
  const hold = new AbortController();
  const timer = setTimeout(() => hold.abort(), holdMs);
  const onAbort = () => hold.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Aborting the long poll ends the wait on the client side only; the attempt is untouched.
    return await ecp.client.withAbortSignal(hold.signal, () => ecp.awaitOutcome(attemptId));
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    if (hold.signal.aborted) return null;
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Options of a status tool: which agent asks, how long it waits, where console links point. */
export interface GovernedStatusOptions {
  /** The client that reads attempts. */
  ecp: EcpClient;
  /** The agent whose attempts the tool may report on; any other attempt is answered as unknown. */
  agent: string;
  /** How long a status call waits for an open attempt to close: ms, or a duration like "30s". Default 30s. */
  holdTime?: number | string;
  /** The console's base URL for links (default: ECP_CONSOLE_URL, else http://localhost:8088). */
  consoleUrl?: string;
}

const statusOptionsSchema = optionsSchema.pick({ ecp: true, agent: true, holdTime: true, consoleUrl: true });
const attemptIdSchema = z.string().regex(/^att-[0-9a-f]{32}$/, 'must be an attempt ID such as att-0123… (32 hex digits)');

/**
 * What the model may learn later about one of its agent's attempts (e.g. after a "pending" answer): the same
 * answer a governed call gives, waiting up to the hold time for it to close. Read-only: it never proposes,
 * decides or runs anything. An attempt of another agent, or none, is answered as unknown (not an error), so an
 * agent learns nothing about others' attempts. Returns a function; bad options throw an `EcpError` naming the field.
 */
export function governedStatusLookup(
  options: GovernedStatusOptions,
): (attemptId: string, signal?: AbortSignal) => Promise<GovernedAnswer | string> {
  const parsed = parseOrThrow(statusOptionsSchema, options, 'status tool options');
  const holdMs = parsed.holdTime ?? parseDuration(DEFAULT_HOLD_TIME) * 1000;
  const consoleUrl = parsed.consoleUrl ?? process.env.ECP_CONSOLE_URL ?? DEFAULT_CONSOLE_URL;
  return async (attemptId, signal) => {
    const unknown = `UNKNOWN ATTEMPT: ${attemptId} is not an attempt of agent ${parsed.agent}.`;
    if (!attemptIdSchema.safeParse(attemptId).success) return unknown;
    let record: AttemptRecord;
    try {
      record = await options.ecp.getRecord(attemptId);
    } catch (err) {
      if (err instanceof EcpError && err.code === 'not_found') return unknown;
      throw err;
    }
    if (record.proposal.agent !== parsed.agent) return unknown;
    const closed = await waitForClose(options.ecp, attemptId, holdMs, signal);
    return answerFor(closed ?? (await options.ecp.getRecord(attemptId)), consoleUrl);
  };
}
