import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { EcpClient } from '../client/ecpClient';
import type { PlaneConfig } from '../config/load';
import { CatalogueCache, type CatalogueSource } from './catalogue';
import { gatewaySettings } from './settings';
import { createGatewayServer } from './server';
import { agentForToken, bearerToken } from './tokens';

/** What the HTTP gateway needs from the plane process. */
export interface HttpGatewayOptions {
  ecp: EcpClient;
  /** The plane's current configuration (read per request: a reload changes tokens and timing at once). */
  config: () => PlaneConfig;
  catalogue: CatalogueSource;
  /** The console's base URL, for links in pending answers (read when needed: the port may be known only later). */
  consoleUrl: () => string;
  /** Browser origins allowed besides localhost ones (ECP_MCP_ALLOWED_ORIGINS, comma-separated). */
  allowedOrigins?: readonly string[];
  log?: (line: string) => void;
  now?: () => number;
}

interface Session {
  agent: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
}

/** A session unused this long is closed (its client starts a new one on the 404 it then gets, as the spec says). */
const SESSION_IDLE_MS = 30 * 60_000;
/** At most this many open sessions per agent: a client that never closes its sessions cannot exhaust memory. */
const MAX_SESSIONS_PER_AGENT = 64;

/**
 * The gateway over MCP Streamable HTTP (served by the plane at `/mcp`). Sessions, not stateless: a session binds
 * one authenticated agent to one MCP `Server`, so a `notifications/cancelled` reaches the call it cancels (stopping
 * its hold) and progress flows on the call's own stream. Sessions live in memory only; all that matters lives in
 * Temporal, so after a restart a client re-initializes and a retried call finds its attempt (idempotency).
 *
 * Every request is authenticated (`Authorization: Bearer <token>`, `ecp mcp token`) before anything else: a
 * missing, malformed or unknown token is answered 401 with `WWW-Authenticate: Bearer` and a JSON-RPC error, and
 * nothing is started. A session is usable only with a token of the agent that opened it.
 */
export class HttpGateway {
  readonly #sessions = new Map<string, Session>();
  readonly #catalogue: CatalogueCache;
  readonly #now: () => number;
  readonly #log: (line: string) => void;

  constructor(private readonly options: HttpGatewayOptions) {
    this.#catalogue = new CatalogueCache(options.catalogue);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? ((line) => console.error(line));
  }

  /** Answers one HTTP request to `/mcp` (POST, GET or DELETE). Never throws: failures are JSON-RPC error bodies. */
  async handle(request: Request): Promise<Response> {
    try {
      return await this.#handle(request);
    } catch (err) {
      this.#log(`mcp: ${(err as Error).stack ?? String(err)}`);
      return rpcError(500, -32603, 'internal error in the ECP gateway');
    }
  }

  async #handle(request: Request): Promise<Response> {
    const config = this.options.config();
    if (!config.mcp) return rpcError(404, -32601, 'the MCP gateway is not configured on this plane (ecp.yaml has no mcp section)');
    const origin = request.headers.get('origin');
    if (origin !== null && !this.#originAllowed(origin)) {
      // DNS rebinding defence (MCP spec, Streamable HTTP "Security Warning"): a browser page of another origin.
      return rpcError(403, -32000, `origin ${origin} is not allowed to use the MCP gateway`);
    }
    const token = bearerToken(request.headers.get('authorization'));
    if (token === null) return unauthorized('missing bearer token: send Authorization: Bearer <token> (made with `ecp mcp token`)');
    const agent = agentForToken(token, config.mcp.agents);
    if (agent === null) return unauthorized('invalid token: not a token of any agent in mcp.agents', true);
    if (!Object.hasOwn(config.directory.agents, agent)) {
      return unauthorized(`the token's agent "${agent}" is not in the directory`, true);
    }

    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      // Another agent's session reads exactly like a missing one.
      if (!session || session.agent !== agent) return rpcError(404, -32001, 'session not found: initialize a new one');
      session.lastSeen = this.#now();
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST') return rpcError(400, -32000, 'no session: POST an initialize request first');
    const body: unknown = await request
      .clone()
      .json()
      .catch(() => undefined);
    const initializing = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
    if (!initializing) return rpcError(400, -32000, 'no session: send an initialize request first (or the Mcp-Session-Id header)');
    this.#sweep();
    if ([...this.#sessions.values()].filter((s) => s.agent === agent).length >= MAX_SESSIONS_PER_AGENT) {
      return rpcError(429, -32000, `agent ${agent} has ${MAX_SESSIONS_PER_AGENT} open sessions; close one (DELETE /mcp) first`);
    }
    return this.#open(agent).transport.handleRequest(request);
  }

  #open(agent: string): Session {
    const server = createGatewayServer({
      agent,
      ecp: this.options.ecp,
      catalogue: this.#catalogue,
      settings: () => gatewaySettings(this.options.config(), this.options.consoleUrl()),
      log: this.#log,
    });
    const session: Session = {
      agent,
      server,
      lastSeen: this.#now(),
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void this.#sessions.set(id, session),
        onsessionclosed: (id) => void this.#sessions.delete(id),
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.#sessions.delete(session.transport.sessionId);
    };
    void server.connect(session.transport);
    return session;
  }

  /** Closes sessions idle longer than SESSION_IDLE_MS. */
  #sweep(): void {
    const cutoff = this.#now() - SESSION_IDLE_MS;
    for (const [id, s] of this.#sessions) {
      if (s.lastSeen < cutoff) {
        this.#sessions.delete(id);
        void s.server.close();
      }
    }
  }

  #originAllowed(origin: string): boolean {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false;
    }
    if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return true;
    const allowed = [...(this.options.allowedOrigins ?? []), new URL(this.options.consoleUrl()).origin];
    return allowed.includes(url.origin);
  }

  /** Closes every session (the plane is stopping). */
  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((s) => s.server.close().catch(() => {})));
  }
}

function rpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

function unauthorized(message: string, invalidToken = false): Response {
  const challenge = invalidToken ? 'Bearer realm="ecp-mcp", error="invalid_token"' : 'Bearer realm="ecp-mcp"';
  return rpcError(401, -32001, message, { 'www-authenticate': challenge });
}

/** ECP_MCP_ALLOWED_ORIGINS as a list of origins. */
export function allowedOriginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.ECP_MCP_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
