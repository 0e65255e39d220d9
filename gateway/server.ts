import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { EcpClient } from '../client/ecpClient';
import { EcpError } from '../common/errors';
import { LIMITS } from '../common/constants';
import { findUnsafeValue } from '../common/jsonSafety';
import type { McpToolView } from '../common/mcp';
import type { JsonValue } from '../common/record';
import { argumentProblem } from './arguments';
import { startCall } from './call';
import type { CatalogueCache } from './catalogue';
import { holdForOutcome } from './hold';
import { relayForHeldCall } from './relay';
import { pendingResult, progressMessage, resultForRecord } from './results';

/** The gateway's own tool: an attempt's current state or outcome, for calls answered "pending". */
export const STATUS_TOOL = 'ecp_attempt_status';
/** `_meta` key a client may send with a call to give its own idempotency key (then no time window applies). */
export const META_IDEMPOTENCY_KEY = 'ecp/idempotencyKey';
/** `_meta` key a client may send with a call to give the proposal's justification. */
export const META_JUSTIFICATION = 'ecp/justification';

/** The gateway's timing, read per call so a configuration reload applies to the next call. */
export interface GatewaySettings {
  holdMs: number;
  progressMs: number;
  idempotencyWindowMs: number;
  /** The console's base URL, for the link in a pending answer. */
  consoleUrl: string;
}

/** What one gateway session serves: one authenticated agent. */
export interface GatewayOptions {
  /** The agent every call of this session proposes as (the token's agent on HTTP, the configured one on stdio). */
  agent: string;
  ecp: EcpClient;
  catalogue: CatalogueCache;
  settings: () => GatewaySettings;
  log?: (line: string) => void;
}

/** Why a held call's relays stop: given as the abort reason, so no DOMException is built on every answer. */
const HOLD_OVER = new Error('the call is no longer held');

/** Version the gateway reports in `initialize`. */
const GATEWAY_VERSION = '1.0.0';

const statusInputSchema = {
  type: 'object',
  properties: { attemptId: { type: 'string', description: 'The attempt ID a previous answer gave (att-…).' } },
  required: ['attemptId'],
  additionalProperties: false,
} as const;

// Our own schema for the request, so malformed params get InvalidParams naming the field (the SDK's own parse
// would surface as an internal error). `params` is checked field by field in `parseCallParams`.
const callRequestSchema = z.object({ method: z.literal('tools/call'), params: z.unknown() });

/**
 * The MCP server for one agent (low-level SDK `Server`): `tools/list` is the agent's catalogue plus
 * `ecp_attempt_status`; every `tools/call` of a downstream tool is one attempt (docs/mcp.md). Connect it to a
 * transport (stdio, or one Streamable HTTP session).
 */
export function createGatewayServer(options: GatewayOptions): Server {
  const { agent, ecp, catalogue } = options;
  const log = options.log ?? ((line: string) => console.error(line));
  const server = new Server(
    { name: 'ecp-gateway', version: GATEWAY_VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Every tool call here is governed by ECP: policy may allow it, deny it (an error result with the reasons) or ' +
        'hold it for human approval (a "pending" result with an attempt ID; ask later with ecp_attempt_status).',
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const { tools } = await catalogue.get(agent);
    return { tools: [...tools.map(listedTool), statusTool()] };
  });

  server.setRequestHandler(callRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const params = parseCallParams(request.params);
    const settings = options.settings();
    if (params.name === STATUS_TOOL) return statusCall(ecp, agent, params.arguments, settings.consoleUrl);
    const tool = await catalogue.find(agent, params.name);
    if (!tool) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `unknown tool "${params.name}": agent ${agent} has no tool of that name (tools/list shows the tools it may call)`,
      );
    }
    const problem = argumentProblem(tool, params.arguments);
    if (problem) return errorText(`Invalid arguments for ${tool.exposedName}: ${problem}. Nothing was started.`);
    let attemptId: string;
    try {
      attemptId = await startCall(
        ecp,
        { agent, tool, arguments: params.arguments, justification: params.justification, clientKey: params.clientKey },
        settings.idempotencyWindowMs,
      );
    } catch (err) {
      // The plane refused the proposal before starting anything (too large, a value it cannot keep exactly …).
      if (err instanceof EcpError && (err.code === 'invalid_input' || err.code === 'too_large')) {
        return errorText(`The call was refused before anything started: ${err.message}`);
      }
      throw err;
    }
    log(`mcp: ${agent} called ${tool.exposedName} → attempt ${attemptId}`);
    const progressToken = extra._meta?.progressToken;
    let progress = 0;
    // Elicitation and sampling the downstream server asks for during this call go to this agent's client.
    const relaying = new AbortController();
    const relays = relayForHeldCall(
      ecp,
      attemptId,
      () => server.getClientCapabilities(),
      (r, schema) => extra.sendRequest(r, schema, { timeout: settings.holdMs, signal: relaying.signal }),
      relaying.signal,
      log,
    );
    const end = await holdForOutcome(ecp, attemptId, {
      holdMs: settings.holdMs,
      progressMs: settings.progressMs,
      signal: extra.signal,
      onProgress:
        progressToken === undefined
          ? undefined
          : async (record) => {
              progress += 1;
              await extra.sendNotification({
                method: 'notifications/progress',
                params: {
                  progressToken,
                  progress,
                  message: record ? progressMessage(record) : `attempt ${attemptId} is in progress`,
                },
              });
            },
    }).finally(() => relaying.abort(HOLD_OVER));
    // Never throws; an agent request still in flight was cancelled by the abort.
    void relays;
    // The client cancelled: it reads no answer; the attempt is left to go on.
    if (extra.signal.aborted) log(`mcp: ${agent} cancelled its call of ${tool.exposedName}; attempt ${attemptId} goes on`);
    if (end.record) return end.closed ? resultForRecord(end.record, settings.consoleUrl) : pendingResult(end.record, settings.consoleUrl);
    // No worker answered the record query: say what is known without the requirement details.
    return {
      content: [
        {
          type: 'text',
          text:
            `This call is pending; it has not run yet and it has not been refused. Attempt ID: ${attemptId}. ` +
            `Call ecp_attempt_status with {"attemptId":"${attemptId}"} to learn the outcome.`,
        },
      ],
      isError: false,
      _meta: { 'ecp/attemptId': attemptId },
    };
  });
  return server;
}

/** A catalogue tool as `tools/list` shows it. `outputSchema` is left out: a pending answer has no structured content. */
function listedTool(tool: McpToolView): Tool {
  return {
    name: tool.exposedName,
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    description: tool.description ?? `${tool.name} on ${tool.server}`,
    inputSchema: tool.inputSchema as Tool['inputSchema'],
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
  };
}

function statusTool(): Tool {
  return {
    name: STATUS_TOOL,
    title: 'ECP attempt status',
    description:
      'The current state or outcome of a tool call ECP answered as pending: pass its attempt ID. Returns the tool ' +
      "result once it ran, the denial, rejection or expiry otherwise, or that it still awaits a human's decision.",
    inputSchema: statusInputSchema as unknown as Tool['inputSchema'],
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  };
}

async function statusCall(ecp: EcpClient, agent: string, args: Record<string, JsonValue>, consoleUrl: string): Promise<CallToolResult> {
  const extra = Object.keys(args).find((k) => k !== 'attemptId');
  if (extra) return errorText(`Invalid arguments for ${STATUS_TOOL}: argument "${extra}" is not accepted by this tool.`);
  const attemptId = args.attemptId;
  if (typeof attemptId !== 'string' || !/^att-[0-9a-f]{32}$/.test(attemptId)) {
    return errorText(`Invalid arguments for ${STATUS_TOOL}: argument "attemptId" must be an attempt ID (att- and 32 hex digits).`);
  }
  const unknown = errorText(`No attempt ${attemptId} of agent ${agent}.`);
  try {
    const record = await ecp.getRecord(attemptId);
    // An agent sees its own attempts only; another agent's reads exactly like a missing one.
    if (record.proposal.agent !== agent) return unknown;
    return resultForRecord(record, consoleUrl);
  } catch (err) {
    if (err instanceof EcpError && err.code === 'not_found') return unknown;
    if (err instanceof EcpError && err.code === 'connection') return errorText(`The plane could not be asked right now: ${err.message}`);
    throw err;
  }
}

interface CallParams {
  name: string;
  arguments: Record<string, JsonValue>;
  justification?: string;
  clientKey?: string;
}

/** `tools/call` params, checked field by field; anything wrong is InvalidParams (-32602) naming the field. */
function parseCallParams(params: unknown): CallParams {
  const invalid = (field: string, reason: string) => new McpError(ErrorCode.InvalidParams, `tools/call: field "${field}" ${reason}`);
  if (!isObject(params)) throw invalid('params', 'must be an object');
  if (typeof params.name !== 'string' || params.name.length === 0) throw invalid('params.name', 'must be a tool name (a non-empty string)');
  const args = params.arguments ?? {};
  if (!isObject(args)) throw invalid('params.arguments', 'must be an object');
  const unsafe = findUnsafeValue(args, ['params', 'arguments']);
  if (unsafe) throw invalid(unsafe.path, unsafe.reason);
  const meta = params._meta ?? {};
  if (!isObject(meta)) throw invalid('params._meta', 'must be an object');
  const justification = meta[META_JUSTIFICATION];
  if (
    justification !== undefined &&
    (typeof justification !== 'string' || justification.trim() === '' || justification.length > LIMITS.justificationChars)
  ) {
    throw invalid(`params._meta["${META_JUSTIFICATION}"]`, `must be a non-empty string of at most ${LIMITS.justificationChars} characters`);
  }
  const clientKey = meta[META_IDEMPOTENCY_KEY];
  if (clientKey !== undefined && (typeof clientKey !== 'string' || clientKey.length === 0 || clientKey.length > 256)) {
    throw invalid(`params._meta["${META_IDEMPOTENCY_KEY}"]`, 'must be a non-empty string of at most 256 characters');
  }
  return {
    name: params.name,
    arguments: args as Record<string, JsonValue>,
    ...(justification !== undefined ? { justification } : {}),
    ...(clientKey !== undefined ? { clientKey } : {}),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function errorText(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
