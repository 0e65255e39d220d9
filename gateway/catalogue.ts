import type { McpCatalogue, McpToolView } from '../common/mcp';

/** Where the gateway gets an agent's tools: the plane's catalogue workflow (`EcpClient.mcpCatalogue`). */
export type CatalogueSource = (agent: string) => Promise<McpCatalogue>;

/** How long a catalogue is reused before the plane is asked again. */
const FRESH_MS = 10_000;
/**
 * Past FRESH_MS and up to this age, a catalogue is still answered at once while a new one is fetched in the background
 * (a call never waits for the refresh); older than this, the caller waits for the new one.
 */
const STALE_MS = 60_000;
/** An unknown tool name refreshes the catalogue at most this often per agent (a flood of bad names costs one fetch). */
const MIN_REFRESH_MS = 1_000;

interface Entry {
  catalogue: Promise<McpCatalogue>;
  fetchedAt: number;
}

/**
 * A short-lived cache of each agent's catalogue in front of a {@link CatalogueSource}. Concurrent callers share one
 * fetch; a failed fetch is not cached (the next call tries again). A catalogue between FRESH_MS and STALE_MS old is
 * answered while its successor is fetched in the background. The catalogue only says what to offer: every call is
 * still checked by the plane (policy, the re-check of the tool's version), so a stale entry cannot grant.
 */
export class CatalogueCache {
  readonly #entries = new Map<string, Entry>();
  /** Agent → a background fetch under way (its entry replaces the current one once it succeeds). */
  readonly #refreshing = new Map<string, Promise<unknown>>();

  constructor(
    private readonly source: CatalogueSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** The agent's catalogue, fetched when none is fresh (or, when one is merely stale, refreshed in the background). */
  async get(agent: string): Promise<McpCatalogue> {
    const entry = this.#entries.get(agent);
    const age = entry ? this.now() - entry.fetchedAt : Infinity;
    if (entry && age < FRESH_MS) return entry.catalogue;
    if (entry && age < STALE_MS) {
      if (!this.#refreshing.has(agent)) {
        const fetchedAt = this.now();
        const next = this.source(agent);
        const settle = next
          .then(() => {
            if (this.#entries.get(agent) === entry) this.#entries.set(agent, { catalogue: next, fetchedAt });
          })
          .catch(() => {}) // the stale entry stays; the next call past FRESH_MS tries again
          .finally(() => this.#refreshing.delete(agent));
        this.#refreshing.set(agent, settle);
      }
      return entry.catalogue;
    }
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
