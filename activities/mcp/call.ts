import { ApplicationFailure } from '@temporalio/common';
import { canonicalSize, FailureType, type JsonValue } from '../../common';
import { parseDuration } from '../../common/duration';
import type { McpToolFacts } from '../../common/mcp';
import type { PlaneConfig } from '../../config/load';
import type { McpDownstream } from './downstream';
import type { McpRelayHandler } from './connection';

/** The largest downstream result an outcome carries: well below Temporal's payload limit (the record holds it too). */
export const MCP_RESULT_MAX_BYTES = 256 * 1024;
/** `_meta` keys of a `tools/call`: the attempt ID, stable across retries, as the downstream idempotency hint. */
export const MCP_META_ATTEMPT = 'ecp/attemptId';
export const MCP_META_IDEMPOTENCY = 'ecp/idempotencyKey';

/** The facts an MCP action type's attempt pins; a hint the server did not declare takes MCP's (cautious) default. */
export function mcpToolFacts(config: PlaneConfig, actionType: string): McpToolFacts | null {
  const tool = config.mcpTools?.[actionType];
  if (!tool) return null;
  const a = tool.annotations ?? {};
  return {
    tool: {
      server: tool.server,
      name: tool.name,
      readOnlyHint: a.readOnlyHint ?? false,
      destructiveHint: a.destructiveHint ?? true,
      idempotentHint: a.idempotentHint ?? false,
      openWorldHint: a.openWorldHint ?? true,
    },
  };
}

export interface McpCallRequest {
  server: string;
  tool: string;
  arguments: Record<string, JsonValue>;
  attemptId: string;
  signal: AbortSignal;
  /** Makes the relay of this call's elicitation and sampling requests (absent: they are refused). */
  relay?: (timeoutMs: number) => McpRelayHandler;
}

/**
 * One `tools/call` with exactly the authorised arguments, on a connection of its own. A transport failure (connection
 * lost, timeout) throws a retryable error: the retry carries the same attempt ID in `_meta`. A result with
 * `isError: true` is final (non-retryable `McpToolError`, message = the tool's text): the tool ran and answered, so
 * retrying would repeat a call the tool itself refused or failed — the agent sees the tool's own words. A result
 * larger than MCP_RESULT_MAX_BYTES fails (non-retryable `McpResultTooLarge`) and says the call may have had its effect.
 */
export async function callMcpTool(downstream: McpDownstream, config: PlaneConfig, request: McpCallRequest): Promise<JsonValue> {
  const server = config.mcp?.servers[request.server];
  const timeout = server ? parseDuration(server.timeout) * 1000 : 30_000;
  const result = await downstream.pool(request.server).use((client, connection) => {
    // The connection carries only this call until `use` returns: a server→client request on it is this call's.
    connection.relay = request.relay?.(timeout) ?? null;
    return client.callTool(
      {
        name: request.tool,
        arguments: request.arguments,
        _meta: { [MCP_META_ATTEMPT]: request.attemptId, [MCP_META_IDEMPOTENCY]: request.attemptId },
      },
      undefined,
      { signal: request.signal, timeout, resetTimeoutOnProgress: true, maxTotalTimeout: timeout },
    );
  }, request.signal);
  const outcome = JSON.parse(JSON.stringify(result)) as Record<string, JsonValue>;
  if (outcome.isError === true) {
    throw ApplicationFailure.nonRetryable(
      toolText(outcome) || `MCP tool "${request.tool}" reported an error`,
      FailureType.McpToolError,
      outcome,
    );
  }
  const size = canonicalSize(outcome);
  if (size > MCP_RESULT_MAX_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `MCP tool "${request.tool}" returned ${size} bytes; the limit is ${MCP_RESULT_MAX_BYTES} bytes, so the result is not kept — the call completed downstream and its effect may have happened`,
      FailureType.McpResultTooLarge,
    );
  }
  return outcome;
}

/** The text blocks of a tool result, joined (what a model would read), capped for the failure message. */
function toolText(result: Record<string, JsonValue>): string {
  const content = Array.isArray(result.content) ? result.content : [];
  return content
    .flatMap((c) => (c && typeof c === 'object' && !Array.isArray(c) && c.type === 'text' && typeof c.text === 'string' ? [c.text] : []))
    .join('\n')
    .slice(0, 4000);
}
