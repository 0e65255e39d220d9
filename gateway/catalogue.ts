import type { McpCatalogue, McpToolView } from '../common/mcp';

/** Where the gateway gets an agent's tools: the plane's catalogue workflow (`EcpClient.mcpCatalogue`). */
export type CatalogueSource = (agent: string) => Promise<McpCatalogue>;

/** How long a catalogue is reused before `tools/list` asks the plane again. */
const FRESH_MS = 10_000;
/** An unknown tool name refreshes the catalogue at most this often per agent (a flood of bad names costs one fetch). */
const MIN_REFRESH_MS = 1_000;

interface Entry {
  catalogue: Promise<McpCatalogue>;
  fetchedAt: number;
}

/**
 * A short-lived cache of each agent's catalogue in front of a {@link CatalogueSource}. Concurrent callers share one
 * fetch; a failed fetch is not cached (the next call tries again). The catalogue only says what to offer: every
 * call is still checked by the plane (policy, the re-check of the tool's version), so a stale entry cannot grant.
 */
export class CatalogueCache {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly source: CatalogueSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** The agent's catalogue, fetched when none is fresh. */
  async get(agent: string): Promise<McpCatalogue> {
    const entry = this.#entries.get(agent);
    if (entry && this.now() - entry.fetchedAt < FRESH_MS) return entry.catalogue;
    return this.#fetch(agent);
  }

  /**
   * The tool the agent calls by `exposedName`, or null. A name not in the cached catalogue fetches it again first
   * (a downstream server may have added the tool since), at most once per second per agent.
   */
  async find(agent: string, exposedName: string): Promise<McpToolView | null> {
    const byName = (c: McpCatalogue) => c.tools.find((t) => t.exposedName === exposedName) ?? null;
    const found = byName(await this.get(agent));
    if (found) return found;
    const entry = this.#entries.get(agent);
    if (entry && this.now() - entry.fetchedAt < MIN_REFRESH_MS) return null;
    return byName(await this.#fetch(agent));
  }

  #fetch(agent: string): Promise<McpCatalogue> {
    const catalogue = this.source(agent);
    const entry = { catalogue, fetchedAt: this.now() };
    this.#entries.set(agent, entry);
    catalogue.catch(() => {
      if (this.#entries.get(agent) === entry) this.#entries.delete(agent);
    });
    return catalogue;
  }
}
