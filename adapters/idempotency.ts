import { canonicalJson, sha256Hex, type JsonValue } from '../common';

/** What the idempotency key of one governed tool call is derived from. */
export interface IdempotencyInput {
  /** The action type the call proposes. */
  actionType: string;
  /** The proposal's parameters (after the tool's mapping), canonicalised (RFC 8785) before hashing. */
  parameters: Record<string, JsonValue>;
  /** The framework's ID of this tool call, when it gives one (AI SDK `toolCallId`, Agents SDK `callId`). */
  toolCallId?: string | undefined;
  /** Length of the time window for calls without a tool-call ID, in milliseconds. */
  windowMs: number;
  /** The time of the call, in milliseconds since the epoch (default: now). */
  now?: number;
}

/**
 * The idempotency key of a governed tool call. The attempt ID is derived from agent + this key
 * (`attemptIdFor`), so the same key from the same agent is always the same attempt, never a second execution.
 *
 * - With a framework tool-call ID: `call-<hash(action type, call ID, canonical parameters)>`. A framework that
 *   re-runs the same tool call (a retried step, a resumed run) reaches the same attempt; another call, even with
 *   the same arguments, is a new attempt. The parameters are part of the hash so that a call ID reused with other
 *   arguments (scripted models, some providers) starts its own attempt instead of a conflict.
 * - Without one: `args-<hash(action type, canonical parameters, window index)>` where the window index is
 *   `floor(now / windowMs)`: identical calls inside one window are one attempt; the next window starts a new one.
 *
 * Pure and deterministic: the same input always gives the same key.
 */
export function idempotencyKeyFor(input: IdempotencyInput): string {
  const parameters = canonicalJson(input.parameters);
  if (input.toolCallId) {
    return `call-${sha256Hex(canonicalJson(['call', input.actionType, input.toolCallId, parameters])).slice(0, 40)}`;
  }
  const window = Math.floor((input.now ?? Date.now()) / input.windowMs);
  return `args-${sha256Hex(canonicalJson(['args', input.actionType, parameters, window])).slice(0, 40)}`;
}
