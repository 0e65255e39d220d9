import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical';
import type { JsonValue } from '../common/record';

/** Idempotency keys the gateway makes start with this (a proposal made elsewhere never collides by accident). */
export const MCP_IDEMPOTENCY_PREFIX = 'mcp-';

/** What makes two tool calls of one agent the same call (docs/mcp.md, "Retries and idempotency"). */
export interface CallIdentity {
  /** The tool's name as the agent called it (`<server>__<tool>`). */
  tool: string;
  /** The call's arguments; compared as RFC 8785 canonical JSON, so key order and number spelling do not matter. */
  arguments: Record<string, JsonValue>;
  /** `_meta["ecp/idempotencyKey"]` when the client sent one: then the time window plays no part. */
  clientKey?: string;
}

/**
 * The proposal's idempotency key for a call in time bucket `bucket` (floor(now / window)): `mcp-` + SHA-256 hex of
 * the canonical JSON of { tool, arguments, key: clientKey } or { tool, arguments, bucket }. The agent is not in it:
 * the attempt ID already binds agent and key (common/proposal.ts `attemptIdFor`). Pure.
 */
export function callIdempotencyKey(call: CallIdentity, bucket: number): string {
  const material =
    call.clientKey !== undefined
      ? { v: 1, tool: call.tool, arguments: call.arguments, key: call.clientKey }
      : { v: 1, tool: call.tool, arguments: call.arguments, bucket };
  // Node's SHA-256 (the same digest as common/canonical's pure-JS one, which the workflow sandbox needs; the gateway does not).
  return `${MCP_IDEMPOTENCY_PREFIX}${createHash('sha256').update(canonicalJson(material), 'utf8').digest('hex')}`;
}

/** The time bucket of `nowMs` for a window of `windowMs`. */
export function timeBucket(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}
