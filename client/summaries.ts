import type { Proposal } from '../common/proposal';
import { renderSummary } from '../common/summary';
import type { PlaneConfig } from '../config/load';
import type { AttemptSummary, EcpClient } from './ecpClient';

/** A listed attempt with its one-line summary (null: no template for its action type, or its record was not read in time). */
export type SummarizedAttempt = AttemptSummary & { summary: string | null };

/**
 * The one-line summary of a proposal by the configuration's template for its action type (common/summary.ts), or
 * null when the action type has none. Read-time presentation: nothing of it is recorded.
 */
export function proposalSummary(
  config: Pick<PlaneConfig, 'actionTypes'> | undefined,
  proposal: Pick<Proposal, 'actionType' | 'agent' | 'resource' | 'parameters'>,
): string | null {
  const type = config && Object.hasOwn(config.actionTypes, proposal.actionType) ? config.actionTypes[proposal.actionType] : undefined;
  return renderSummary(type?.summary, proposal);
}

/** Rows summarised per listing by default: the first (soonest deadlines, for pending lists). */
export const SUMMARIZED_ROWS = 100;

/** How `SummaryReader` reads records for one-line summaries: per-read timeout, parallel reads, rows per listing. */
export interface SummaryReaderOptions {
  /** How long one record read may take before its row is listed without a summary (the next read tries again). */
  timeoutMs?: number;
  /** Records read at once. */
  concurrency?: number;
  /** Summaries kept between reads (oldest dropped first). */
  maxEntries?: number;
  /** Only the first this many rows get a summary (a record read each): a list of thousands stays fast. */
  maxRows?: number;
}

/**
 * Adds summaries to listed attempts. Listings carry no parameters, so each row's record is read (its proposal is the
 * authoritative one); a run's proposal never changes, so the rendered summary is kept per run (attempt ID and start
 * time) and template, and a live inbox re-reads only new attempts. A record that cannot be read in time leaves that
 * row without a summary rather than holding up the list.
 */
export class SummaryReader {
  readonly #cache = new Map<string, { template: string; summary: string | null }>();
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #maxEntries: number;
  readonly #maxRows: number;

  constructor(options: SummaryReaderOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#concurrency = options.concurrency ?? 8;
    this.#maxEntries = options.maxEntries ?? 2_000;
    this.#maxRows = options.maxRows ?? SUMMARIZED_ROWS;
  }

  async summarize(
    ecp: EcpClient,
    rows: readonly AttemptSummary[],
    config: Pick<PlaneConfig, 'actionTypes'> | undefined,
  ): Promise<SummarizedAttempt[]> {
    const out: SummarizedAttempt[] = rows.map((row) => ({ ...row, summary: null }));
    const count = Math.min(out.length, this.#maxRows);
    let next = 0;
    const work = async () => {
      for (let i = next++; i < count; i = next++) out[i]!.summary = await this.#one(ecp, out[i]!, config);
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, count) }, work));
    return out;
  }

  async #one(ecp: EcpClient, row: AttemptSummary, config: Pick<PlaneConfig, 'actionTypes'> | undefined): Promise<string | null> {
    const template =
      row.actionType && config && Object.hasOwn(config.actionTypes, row.actionType)
        ? config.actionTypes[row.actionType]?.summary
        : undefined;
    if (template === undefined) return null;
    const key = `${row.attemptId}\u0000${row.startedAt}`;
    const kept = this.#cache.get(key);
    if (kept && kept.template === template) return kept.summary;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.#timeoutMs)));
    try {
      const record = await Promise.race([ecp.getRecord(row.attemptId), timeout]);
      if (!record) return null;
      const summary = proposalSummary(config, record.proposal);
      this.#cache.set(key, { template, summary });
      if (this.#cache.size > this.#maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
      return summary;
    } catch {
      return null; // e.g. no worker answered: the row is still listed
    } finally {
      clearTimeout(timer);
    }
  }
}
