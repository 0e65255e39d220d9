import type { EcpClient } from '../client/ecpClient';
import type { AttemptSummary } from '../common/searchAttributes';
import { SUMMARIZED_ROWS } from '../client/summaries';

/** A listed attempt with the groups escalation added to those awaited (empty: not escalated, or not known yet). */
export type MarkedAttempt<T extends AttemptSummary> = T & { escalatedTo: string[] };

/**
 * Marks listed attempts that have escalated, so inboxes and lists read "escalated" apart from merely awaiting (and
 * from EXPIRED and REJECTED). A listing row carries the groups awaited now (`EcpAwaitingGroups`, widened by each
 * escalation step); the groups policy named at first — each requirement's approver and override groups, without
 * what escalation added — are read once per run from its record and kept: they never change for a run. Escalated to
 * = awaited now minus those. Only awaiting rows are read (the first 100, 8 at a time, as for summaries); a record
 * that cannot be read in time leaves the row unmarked rather than holding up the list (the next listing tries again).
 * Never affects who may decide.
 */
export class EscalationMarks {
  readonly #base = new Map<string, string[]>();
  readonly #timeoutMs: number;
  readonly #maxEntries: number;
  readonly #concurrency: number;
  readonly #maxRows: number;

  constructor(options: { timeoutMs?: number; maxEntries?: number; concurrency?: number; maxRows?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#maxEntries = options.maxEntries ?? 2_000;
    this.#concurrency = options.concurrency ?? 8;
    this.#maxRows = options.maxRows ?? SUMMARIZED_ROWS;
  }

  async mark<T extends AttemptSummary>(ecp: EcpClient, rows: readonly T[]): Promise<Array<MarkedAttempt<T>>> {
    const out: Array<MarkedAttempt<T>> = rows.map((row) => ({ ...row, escalatedTo: [] }));
    // At most `concurrency` record reads at once, and only for the first `maxRows` awaiting rows: a long list stays fast.
    const awaiting = out.filter((row) => row.status === 'AWAITING_DECISION' && row.awaitingGroups.length > 0).slice(0, this.#maxRows);
    let next = 0;
    const work = async () => {
      for (let i = next++; i < awaiting.length; i = next++) {
        const row = awaiting[i]!;
        const base = await this.#baseGroups(ecp, row);
        if (base) row.escalatedTo = row.awaitingGroups.filter((g) => !base.includes(g));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, awaiting.length) }, work));
    return out;
  }

  async #baseGroups(ecp: EcpClient, row: AttemptSummary): Promise<string[] | null> {
    const key = `${row.attemptId}\u0000${row.startedAt}`;
    const kept = this.#base.get(key);
    if (kept) return kept;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.#timeoutMs)));
    try {
      const record = await Promise.race([ecp.getRecord(row.attemptId), timeout]);
      if (!record) return null;
      const base = [
        ...new Set(
          record.requirements.flatMap((r) => [...r.groups.filter((g) => !(r.escalatedTo ?? []).includes(g)), ...(r.overrideBy ?? [])]),
        ),
      ];
      this.#base.set(key, base);
      if (this.#base.size > this.#maxEntries) this.#base.delete(this.#base.keys().next().value!);
      return base;
    } catch {
      return null; // e.g. no worker answered: the row is still listed, unmarked
    } finally {
      clearTimeout(timer);
    }
  }
}
