import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { digestOf, type JsonValue } from '../../common';
import type { McpToolDefinition } from '../../common/mcp';
import type { PlaneRuntime } from '../../config/runtime';
import { writeMcpCatalogue } from '../../config/mcpCatalogueFile';
import { storePolicyBundle } from '../../audit/bundleStore';
import { McpServerPool } from './pool';

/** How often servers that could not be listed are tried again. */
export const MCP_RETRY_INTERVAL_MS = 30_000;
/** `tools/list` pages followed before giving up on a server that never stops paginating. */
const MAX_PAGES = 100;

export interface McpDownstreamOptions {
  /** Where the catalogue file and the kept policy bundles go (`<dataDir>/mcp/catalogue.json`, `<dataDir>/policy-bundles`). */
  dataDir: string;
  log: (line: string) => void;
}

/**
 * The worker's side of MCP: connections to every configured downstream server and the live tool catalogue. Every
 * change of the catalogue (discovery at start, `notifications/tools/list_changed`, a refresh before an attempt's
 * facts or execution) rebuilds the runtime's configuration atomically, keeps the catalogue file for the CLI and
 * console, and keeps the new policy bundle version for auditors. A server that cannot be reached is logged, its tools
 * are absent, and it is tried again every MCP_RETRY_INTERVAL_MS; the plane runs on.
 */
export class McpDownstream {
  readonly #pools = new Map<string, { pool: McpServerPool; digest: string }>();
  /** Server → its tools at the last successful listing; a server never listed has no entry. */
  readonly #tools = new Map<string, McpToolDefinition[]>();
  readonly #skippedLogged = new Set<string>();
  readonly #refreshing = new Map<string, Promise<void>>();
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly runtime: PlaneRuntime,
    readonly options: McpDownstreamOptions,
  ) {}

  /** Lists every configured server's tools (unreachable ones are logged and retried later) and applies the catalogue. */
  async start(): Promise<void> {
    await this.#refreshAll();
    this.#retry = setInterval(() => void this.#refreshAll(true), MCP_RETRY_INTERVAL_MS);
    this.#retry.unref();
  }

  /** The servers of the running configuration. */
  get servers(): string[] {
    return Object.keys(this.runtime.config.mcp?.servers ?? {});
  }

  /**
   * Lists one server's tools now and, when anything changed, rebuilds the configuration. Throws when the server cannot
   * be listed (callers treat that as retryable) — its last known tools stay until a listing succeeds.
   */
  async refresh(server: string, signal?: AbortSignal): Promise<void> {
    // One listing per server at a time, applied in order: an older answer never overwrites a newer one.
    const previous = this.#refreshing.get(server) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.#refreshNow(server, signal));
    this.#refreshing.set(server, next);
    try {
      await next;
    } finally {
      if (this.#refreshing.get(server) === next) this.#refreshing.delete(server);
    }
  }

  async #refreshNow(server: string, signal?: AbortSignal): Promise<void> {
    const tools = await this.#list(server, signal);
    const before = this.#tools.get(server);
    if (before && digestOf(before as unknown as JsonValue) === digestOf(tools as unknown as JsonValue)) return;
    this.#tools.set(server, tools);
    this.#apply();
  }

  /** The pool of a configured server (re-created when its configuration changed on a reload). */
  pool(server: string): McpServerPool {
    const config = this.runtime.config.mcp?.servers[server];
    if (!config || this.#closed) throw new Error(`MCP server "${server}" is not configured on this worker`);
    const digest = digestOf(config as unknown as JsonValue);
    const known = this.#pools.get(server);
    if (known?.digest === digest) return known.pool;
    void known?.pool.close();
    const pool = new McpServerPool(server, config, () => this.#onListChanged(server));
    this.#pools.set(server, { pool, digest });
    return pool;
  }

  /** Closes every connection (worker shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#retry);
    await Promise.all([...this.#pools.values()].map(({ pool }) => pool.close()));
    this.#pools.clear();
  }

  async #refreshAll(onlyMissing = false): Promise<void> {
    const servers = this.servers.filter((s) => !onlyMissing || !this.#tools.has(s));
    let changed = false;
    await Promise.all(
      servers.map(async (server) => {
        try {
          const tools = await this.#list(server);
          this.#tools.set(server, tools);
          changed = true;
          this.options.log(`MCP server "${server}": ${tools.length} tool(s)`);
        } catch (err) {
          this.options.log(
            `warning: MCP server "${server}" could not be listed (${(err as Error).message}); its tools are absent, retrying every ${MCP_RETRY_INTERVAL_MS / 1000}s`,
          );
        }
      }),
    );
    if (changed || !onlyMissing) this.#apply();
  }

  #onListChanged(server: string): void {
    if (this.#closed) return;
    this.refresh(server).catch((err: Error) =>
      this.options.log(`warning: MCP server "${server}" announced a tool list change but could not be listed: ${err.message}`),
    );
  }

  async #list(server: string, signal?: AbortSignal): Promise<McpToolDefinition[]> {
    return this.pool(server).use(async (client) => {
      const tools: McpToolDefinition[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.listTools(cursor ? { cursor } : {}, { ...(signal ? { signal } : {}), timeout: 15_000 });
        tools.push(...answer.tools.map((t) => definitionOf(server, t)));
        cursor = answer.nextCursor;
        if (!cursor) return tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      throw new Error(`tools/list did not end after ${MAX_PAGES} pages`);
    }, signal);
  }

  /** Rebuilds the configuration with the current catalogue; keeps the catalogue file and the new bundle. */
  #apply(): void {
    const tools = this.servers.flatMap((s) => this.#tools.get(s) ?? []);
    try {
      const config = this.runtime.setMcpTools(tools);
      for (const { server, tool, reason } of config.mcpSkipped ?? []) {
        const key = `${server}/${tool}/${reason}`;
        if (this.#skippedLogged.has(key)) continue;
        this.#skippedLogged.add(key);
        this.options.log(`warning: MCP tool "${tool}" of server "${server}" is left out: ${reason}`);
      }
      writeMcpCatalogue(this.options.dataDir, tools);
      storePolicyBundle(this.options.dataDir, config.bundle);
    } catch (err) {
      this.options.log(
        `warning: the MCP tool catalogue could not be applied; keeping the running configuration: ${(err as Error).message}`,
      );
    }
  }
}

/** The parts of a listed tool ECP governs and pins (unknown annotation keys are not pinned: they mean nothing to ECP). */
function definitionOf(server: string, tool: Tool): McpToolDefinition {
  const a = tool.annotations;
  const annotations = a
    ? Object.fromEntries(
        (['title', 'readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const)
          .filter((k) => a[k] !== undefined)
          .map((k) => [k, a[k]]),
      )
    : undefined;
  return JSON.parse(
    JSON.stringify({
      server,
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
      outputSchema: tool.outputSchema,
      annotations,
    }),
  ) as McpToolDefinition;
}
