import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../../config/schema';
import { withEnv } from '../http';

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
  const client = new Client({ name: `ecp-plane/${name}`, version: '1.0.0' }, { capabilities: {} });
  const connection: McpConnection = { client, dead: false, stderrTail: () => tail.join('\n') };
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
