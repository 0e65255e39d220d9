import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { JsonValue } from '../../common';
import type { McpRelayMethod } from '../../common/mcpRelay';
import type { McpServerConfig } from '../../config/schema';
import { withEnv } from '../http';
import { workerSchemaValidators } from './schemaValidators';

/** How long connecting (spawn + initialize) may take before the server counts as unreachable. */
export const MCP_CONNECT_TIMEOUT_MS = 15_000;
/** Lines of a stdio server's stderr kept for error messages (never logged as they come: they may echo secrets). */
const STDERR_LINES = 20;

/** One live connection to a downstream server: one MCP `Client` on its own transport (its own process on stdio). */
export interface McpConnection {
  client: Client;
  /** True once the transport closed: the pool drops it and opens a new one on demand. */
  dead: boolean;
  /** The last lines the server wrote to stderr (stdio only), for error messages. */
  stderrTail(): string;
  /**
   * Where an elicitation or sampling request the server sends goes: set by the call running on this connection (one
   * call at a time, so the request is that call's). Null between calls: the request is refused (see `refuseRelay`).
   */
  relay: McpRelayHandler | null;
}

/** Answers one server→client request of the running call: the result to send back, or throws an `McpError`. */
export type McpRelayHandler = (
  method: McpRelayMethod,
  params: Record<string, JsonValue>,
  signal: AbortSignal,
) => Promise<Record<string, JsonValue>>;

/**
 * The clean refusal of a request nobody can answer: elicitation → `decline` (a definite "no" for this call, so the
 * server does not ask again; `cancel` would mean the user dismissed it and might retry), sampling → a JSON-RPC
 * MethodNotFound error with a plain message (what a client without sampling answers, so servers already handle it).
 */
export function refuseRelay(method: McpRelayMethod, reason: string): Record<string, JsonValue> {
  if (method === 'elicitation/create') return { action: 'decline' };
  throw new McpError(ErrorCode.MethodNotFound, `sampling is not available: ${reason}`);
}

/**
 * Connects to one configured server. `${env:NAME}` in args, env values, URL and header values is expanded here, on the
 * worker (a missing variable is a non-retryable configuration error); a stdio server gets the SDK's minimal safe
 * environment (PATH, HOME, USER, …) with the configured `env` over it, never the worker's whole environment.
 */
export async function connectMcpServer(name: string, config: McpServerConfig, onToolListChanged: () => void): Promise<McpConnection> {
  const tail: string[] = [];
  let transport: Transport;
  if ('command' in config) {
    const stdio = new StdioClientTransport({
      command: config.command,
      args: config.args.map(withEnv),
      env: Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, withEnv(v)])),
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'pipe',
    });
    stdio.stderr?.on('data', (chunk: Buffer) => {
      tail.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - STDERR_LINES));
    });
    transport = stdio;
  } else {
    const headers = Object.fromEntries(Object.entries(config.headers).map(([k, v]) => [k, withEnv(v)]));
    transport = new StreamableHTTPClientTransport(new URL(withEnv(config.url)), { requestInit: { headers } });
  }
  // Declared so servers offer the tools that need them; each request is relayed to the agent's client, or refused.
  // Output schemas compiled once per worker, not on every listing (schemaValidators.ts).
  const client = new Client(
    { name: `ecp-plane/${name}`, version: '1.0.0' },
    { capabilities: { elicitation: {}, sampling: {} }, jsonSchemaValidator: workerSchemaValidators },
  );
  const connection: McpConnection = { client, dead: false, stderrTail: () => tail.join('\n'), relay: null };
  const relay = (method: McpRelayMethod, params: unknown, signal: AbortSignal) => {
    const handler = connection.relay;
    if (!handler) return refuseRelay(method, 'no tool call is running on this connection');
    return handler(method, JSON.parse(JSON.stringify(params ?? {})) as Record<string, JsonValue>, signal);
  };
  client.setRequestHandler(ElicitRequestSchema, (request, extra) => relay('elicitation/create', request.params, extra.signal) as never);
  client.setRequestHandler(
    CreateMessageRequestSchema,
    (request, extra) => relay('sampling/createMessage', request.params, extra.signal) as never,
  );
  client.onclose = () => {
    connection.dead = true;
  };
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => onToolListChanged());
  try {
    await client.connect(transport, { timeout: MCP_CONNECT_TIMEOUT_MS });
  } catch (err) {
    await client.close().catch(() => {});
    const stderr = tail.length > 0 ? ` (its stderr: ${tail.slice(-3).join(' | ').slice(0, 300)})` : '';
    throw new Error(`cannot connect to MCP server "${name}": ${(err as Error).message}${stderr}`);
  }
  return connection;
}
