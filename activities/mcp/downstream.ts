import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { digestOf, type JsonValue } from '../../common';
import type { McpToolDefinition } from '../../common/mcp';
import type { PlaneRuntime } from '../../config/runtime';
import type { McpServerConfig } from '../../config/schema';
import { writeMcpCatalogue } from '../../config/mcpCatalogueFile';
import { keepPolicyBundle } from '../../audit/bundleStore';
import type { KeptStore } from '../../audit/store/kept';
import { McpServerPool } from './pool';

/** How often servers that could not be listed are tried again. */
export const MCP_RETRY_INTERVAL_MS = 30_000;
/**
 * How old the last listing may be for an attempt's first evaluation to use it instead of listing again. The executor
 * always checks a listing asked after the evaluation (see MCP_EXECUTION_LISTING_MAX_AGE_MS), so a tool changed since
 * is refused there (StaleAuthority) and never runs.
 */
export const MCP_EVALUATION_LISTING_MAX_AGE_MS = 2_000;
/**
 * How long the listing started when an evaluation allowed an attempt (`prepareExecution`) stays the one its executor
 * checks; an executor that starts later (a retry, a slow queue) lists again itself.
 */
export const MCP_EXECUTION_LISTING_MAX_AGE_MS = 2_000;
/** Attempts remembered as evaluated once on this worker (their next evaluation, the re-check, always lists again). */
const EVALUATED_ATTEMPTS_KEPT = 10_000;
/** Listings started for executors not yet run on this worker that are kept at most (the oldest is dropped first). */
const PREPARED_EXECUTIONS_KEPT = 1_000;
/** `tools/list` pages followed before giving up on a server that never stops paginating. */
const MAX_PAGES = 100;

export interface McpDownstreamOptions {
  /** Where the catalogue file goes (`<dataDir>/mcp/catalogue.json`). */
  dataDir: string;
  /** Where each policy bundle built from a changed catalogue is kept for auditors (the plane's kept store). */
  kept: KeptStore;
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
  /** Server → its pool, the configuration entry it was made for, and that entry's digest. */
  readonly #pools = new Map<string, { pool: McpServerPool; config: McpServerConfig; digest: string }>();
  /**
   * Server → its tools at the last successful listing, their JSON text and digest, and when that listing was asked
   * (ms); a server never listed has no entry.
   */
  readonly #tools = new Map<string, { tools: McpToolDefinition[]; text: string; digest: string; listedAt: number }>();
  /** How many listings were canonicalised and hashed (a listing identical to the last one is not): for tests. */
  digests = 0;
  /** Attempts whose first evaluation ran on this worker, oldest first (bounded). */
  readonly #evaluated = new Set<string>();
  /** Attempt → the listing started for its executor when an evaluation allowed it, oldest first (bounded). */
  readonly #preparedExecutions = new Map<string, { server: string; listing: Promise<void>; askedAt: number }>();
  readonly #skippedLogged = new Set<string>();
  /** Server → the listing applied last (running or done), so the next one starts after it. */
  readonly #refreshing = new Map<string, Promise<void>>();
  /** Server → a listing asked for but not started yet (it waits for the running one): later askers share it. */
  readonly #queued = new Map<string, Promise<void>>();
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
   * be listed (callers treat that as retryable) — its last known tools stay until a listing succeeds. Always a listing
   * that starts after this call: concurrent callers share one that has not started yet (its answer is as fresh as one
   * of their own would be), so N attempts at once cost at most two listings, not N in a row. `signal` ends this
   * caller's wait; the shared listing goes on for the others.
   */
  async refresh(server: string, signal?: AbortSignal): Promise<void> {
    let listing = this.#queued.get(server);
    if (!listing) {
      // One listing per server at a time, applied in order: an older answer never overwrites a newer one.
      const previous = this.#refreshing.get(server) ?? Promise.resolve();
      listing = previous
        .catch(() => {})
        .then(() => {
          if (this.#queued.get(server) === listing) this.#queued.delete(server);
          return this.#refreshNow(server);
        });
      this.#queued.set(server, listing);
      this.#refreshing.set(server, listing);
      const mine = listing;
      void mine
        .catch(() => {})
        .finally(() => {
          if (this.#refreshing.get(server) === mine) this.#refreshing.delete(server);
        });
    }
    await untilAborted(listing, signal);
  }

  /**
   * The listing an attempt's evaluation (`gatherContext`) needs: its first evaluation on this worker uses the last
   * listing when it was asked at most MCP_EVALUATION_LISTING_MAX_AGE_MS ago (a call right after another one, the
   * common case, then costs one listing — the executor's — instead of two); any other evaluation (a retry, the re-check
   * after a decision or a freeze) lists again via {@link refresh}. Safe because the executor lists again before every
   * call and refuses a tool whose version differs from the one evaluated. Returns whether it listed.
   */
  async refreshForEvaluation(server: string, attemptId: string, signal?: AbortSignal): Promise<boolean> {
    const first = !this.#evaluated.has(attemptId);
    if (first) {
      this.#evaluated.add(attemptId);
      // Sets iterate in insertion order: the first entry is the oldest.
      if (this.#evaluated.size > EVALUATED_ATTEMPTS_KEPT) this.#evaluated.delete(this.#evaluated.values().next().value!);
      const last = this.#tools.get(server);
      if (last && Date.now() - last.listedAt <= MCP_EVALUATION_LISTING_MAX_AGE_MS) return false;
    }
    await this.refresh(server, signal);
    return true;
  }

  /**
   * Starts listing the tools of an MCP action type's server for the attempt's executor, right after an evaluation
   * that allowed the attempt, so the listing the executor checks is (usually) done by the time the executor starts
   * instead of making the call wait for it. Never throws: a listing that fails here is listed again by the executor.
   * Not an MCP action type (or its server not known): nothing.
   */
  prepareExecution(actionType: string, attemptId: string): void {
    const server = this.runtime.config.mcpTools?.[actionType]?.server;
    if (!server || !this.servers.includes(server)) return;
    const listing = this.refresh(server);
    listing.catch(() => {});
    // The latest evaluation's listing replaces an earlier one of the same attempt (a re-check after a decision).
    this.#preparedExecutions.delete(attemptId);
    this.#preparedExecutions.set(attemptId, { server, listing, askedAt: Date.now() });
    if (this.#preparedExecutions.size > PREPARED_EXECUTIONS_KEPT)
      this.#preparedExecutions.delete(this.#preparedExecutions.keys().next().value!);
  }

  /**
   * The executor's listing, the rug-pull check before a call: the one `prepareExecution` started for this attempt
   * when its evaluation allowed it on this worker, if asked at most MCP_EXECUTION_LISTING_MAX_AGE_MS ago and it
   * succeeded; otherwise a new one. Either way a listing asked after the evaluation that authorised the call, applied
   * to the catalogue before the executor compares the tool's version with the one evaluated.
   */
  async refreshForExecution(server: string, attemptId: string, signal?: AbortSignal): Promise<void> {
    const prepared = this.#preparedExecutions.get(attemptId);
    this.#preparedExecutions.delete(attemptId);
    if (prepared && prepared.server === server && Date.now() - prepared.askedAt <= MCP_EXECUTION_LISTING_MAX_AGE_MS) {
      const listed = await untilAborted(prepared.listing, signal).then(
        () => true,
        (err: unknown) => {
          if (signal?.aborted) throw err;
          return false;
        },
      );
      if (listed) return;
    }
    await this.refresh(server, signal);
  }

  async #refreshNow(server: string): Promise<void> {
    const listedAt = Date.now();
    const tools = await this.#list(server);
    const text = JSON.stringify(tools);
    const before = this.#tools.get(server);
    // The same JSON text is the same tools, so the same digest: only a listing that differs is canonicalised and
    // hashed (most listings, the executor's before every call, are the unchanged catalogue).
    const digest = before?.text === text ? before.digest : this.#digest(tools);
    this.#tools.set(server, { tools, text, digest, listedAt });
    if (before?.digest !== digest) await this.#apply();
  }

  #digest(tools: McpToolDefinition[]): string {
    this.digests += 1;
    return digestOf(tools as unknown as JsonValue);
  }

  /** The pool of a configured server (re-created when its configuration changed on a reload). */
  pool(server: string): McpServerPool {
    const config = this.runtime.config.mcp?.servers[server];
    if (!config || this.#closed) throw new Error(`MCP server "${server}" is not configured on this worker`);
    const known = this.#pools.get(server);
    // The same entry object is the same configuration: hashed only when the configuration was rebuilt (twice per call).
    if (known?.config === config) return known.pool;
    const digest = digestOf(config as unknown as JsonValue);
    if (known?.digest === digest) {
      known.config = config;
      return known.pool;
    }
    void known?.pool.close();
    const pool = new McpServerPool(server, config, () => this.#onListChanged(server));
    this.#pools.set(server, { pool, config, digest });
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
          const listedAt = Date.now();
          const tools = await this.#list(server);
          this.#tools.set(server, { tools, text: JSON.stringify(tools), digest: this.#digest(tools), listedAt });
          changed = true;
          this.options.log(`MCP server "${server}": ${tools.length} tool(s)`);
        } catch (err) {
          this.options.log(
            `warning: MCP server "${server}" could not be listed (${(err as Error).message}); its tools are absent, retrying every ${MCP_RETRY_INTERVAL_MS / 1000}s`,
          );
        }
      }),
    );
    if (changed || !onlyMissing) await this.#apply();
  }

  #onListChanged(server: string): void {
    if (this.#closed) return;
    this.refresh(server).catch((err: Error) =>
      this.options.log(`warning: MCP server "${server}" announced a tool list change but could not be listed: ${err.message}`),
    );
  }

  async #list(server: string): Promise<McpToolDefinition[]> {
    return this.pool(server).use(async (client) => {
      const tools: McpToolDefinition[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.listTools(cursor ? { cursor } : {}, { timeout: 15_000 });
        tools.push(...answer.tools.map((t) => definitionOf(server, t)));
        cursor = answer.nextCursor;
        if (!cursor) return tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      throw new Error(`tools/list did not end after ${MAX_PAGES} pages`);
    });
  }

  /** Rebuilds the configuration with the current catalogue; keeps the catalogue file and the new bundle. */
  async #apply(): Promise<void> {
    const tools = this.servers.flatMap((s) => this.#tools.get(s)?.tools ?? []);
    try {
      const config = this.runtime.setMcpTools(tools);
      for (const { server, tool, reason } of config.mcpSkipped ?? []) {
        const key = `${server}/${tool}/${reason}`;
        if (this.#skippedLogged.has(key)) continue;
        this.#skippedLogged.add(key);
        this.options.log(`warning: MCP tool "${tool}" of server "${server}" is left out: ${reason}`);
      }
      writeMcpCatalogue(this.options.dataDir, tools);
      // Kept before any attempt can pin it, so an auditor always finds the bundle an attempt names.
      await keepPolicyBundle(this.options.kept, config.bundle);
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

/** `promise`, or a rejection with the signal's reason as soon as `signal` aborts (the promise itself goes on). */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
