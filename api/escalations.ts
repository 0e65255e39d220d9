import type { EcpClient } from '../client/ecpClient';
import type { AttemptSummary } from '../common/searchAttributes';

/** A listed attempt with the groups escalation added to those awaited (empty: not escalated, or not known yet). */
export type MarkedAttempt<T extends AttemptSummary> = T & { escalatedTo: string[] };

/**
 * Marks listed attempts that have escalated, so inboxes and lists read "escalated" apart from merely awaiting (and
 * from EXPIRED and REJECTED). A listing row carries the groups awaited now (`EcpAwaitingGroups`, widened by each
 * escalation step); the groups policy named at first — each requirement's approver and override groups, without
 * what escalation added — are read once per run from its record and kept: they never change for a run. Escalated to
 * = awaited now minus those. Only awaiting rows are read; a record that cannot be read in time leaves the row
 * unmarked rather than holding up the list (the next listing tries again). Never affects who may decide.
 */
export class EscalationMarks {
  readonly #base = new Map<string, string[]>();
  readonly #timeoutMs: number;
  readonly #maxEntries: number;

  constructor(options: { timeoutMs?: number; maxEntries?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#maxEntries = options.maxEntries ?? 2_000;
  }

  async mark<T extends AttemptSummary>(ecp: EcpClient, rows: readonly T[]): Promise<Array<MarkedAttempt<T>>> {
    return Promise.all(
      rows.map(async (row) => {
        if (row.status !== 'AWAITING_DECISION' || row.awaitingGroups.length === 0) return { ...row, escalatedTo: [] };
        const base = await this.#baseGroups(ecp, row);
        return { ...row, escalatedTo: base ? row.awaitingGroups.filter((g) => !base.includes(g)) : [] };
      }),
    );
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
