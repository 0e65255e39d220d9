import type { AcceptedDecision, ApprovalRequirement, FiredEscalation, GovernanceRecord, RequirementProgress } from '../common';

/** A governance event the wait schedules: an escalation step of one requirement, or a reminder before the deadline. */
type Due =
  | { kind: 'escalation'; key: string; atMs: number; policyId: string; step: number; groups: string[] }
  | { kind: 'reminder'; key: string; atMs: number; beforeSeconds: number };

/**
 * The governance part of one attempt (docs/governance.md): the escalation and reminder schedule of its wait, what of
 * it fired, the ratification an override awaits, and the early re-checks. Owned and changed only by `AttemptState`
 * (which calls these methods from its own); deterministic: times come from workflow time.
 */
export class GovernanceState {
  readonly #escalations: GovernanceRecord['escalations'] = [];
  readonly #reminders: GovernanceRecord['reminders'] = [];
  #ratification: GovernanceRecord['ratification'] = null;
  #controlRechecks = 0;
  #schedule: Due[] = [];
  readonly #done = new Set<string>();

  /** Escalation steps fired so far, for widening requirements (common/governance.ts). */
  get fired(): readonly FiredEscalation[] {
    return this.#escalations;
  }

  get ratification(): GovernanceRecord['ratification'] {
    return this.#ratification;
  }

  /** Plans the wait's escalations (from its start) and reminders (before its deadline). */
  plan(requirements: readonly ApprovalRequirement[], startMs: number, deadlineMs: number): void {
    const due: Due[] = [];
    for (const req of requirements) {
      (req.escalations ?? []).forEach((e, i) =>
        due.push({
          kind: 'escalation',
          key: `escalation:${req.policyId}:${i + 1}`,
          atMs: startMs + e.afterSeconds * 1000,
          policyId: req.policyId,
          step: i + 1,
          groups: e.groups,
        }),
      );
    }
    const before = new Set(requirements.flatMap((r) => r.remindBeforeSeconds ?? []));
    for (const b of before) due.push({ kind: 'reminder', key: `reminder:${b}`, atMs: deadlineMs - b * 1000, beforeSeconds: b });
    this.#schedule = due.filter((d) => d.atMs < deadlineMs).sort((a, b) => a.atMs - b.atMs || a.key.localeCompare(b.key));
  }

  /** When the next planned event is due (epoch ms), or null when none is left. */
  get nextDueMs(): number | null {
    return this.#schedule.find((d) => !this.#done.has(d.key))?.atMs ?? null;
  }

  /**
   * Takes every event due at `nowMs`: an escalation fires only while its requirement is unmet, a reminder only while
   * some requirement is. Returns timeline notes for what fired.
   */
  takeDue(nowMs: number, progress: readonly RequirementProgress[], at: string): string[] {
    const notes: string[] = [];
    for (const d of this.#schedule) {
      if (this.#done.has(d.key) || d.atMs > nowMs) continue;
      this.#done.add(d.key);
      if (d.kind === 'escalation') {
        const req = progress.find((p) => p.policyId === d.policyId);
        if (!req || req.met) continue;
        this.#escalations.push({ policyId: d.policyId, step: d.step, groups: d.groups, at });
        notes.push(`escalated: ${d.policyId} step ${d.step}: ${d.groups.join(', ')} may now decide too (${req.approvedBy.length} of ${req.quorum} so far)`);
      } else {
        const unmet = progress.filter((p) => !p.met);
        if (unmet.length === 0) continue;
        this.#reminders.push({ at, beforeSeconds: d.beforeSeconds });
        notes.push(`reminder: ${d.beforeSeconds}s left to decide; still waiting on ${unmet.map((p) => p.policyId).join(', ')}`);
      }
    }
    return notes;
  }

  /** Opens the ratification window of an accepted override whose requirements ask for one (earliest window wins). */
  overrideAccepted(overridden: readonly ApprovalRequirement[], nowMs: number): void {
    const asking = overridden.filter((r) => r.ratify);
    if (asking.length === 0 || this.#ratification) return;
    const withinMs = Math.min(...asking.map((r) => r.ratify!.withinSeconds)) * 1000;
    this.#ratification = {
      groups: [...new Set(asking.flatMap((r) => r.ratify!.groups))].sort(),
      until: new Date(nowMs + withinMs).toISOString(),
      ratifiedBy: null,
      ratifiedAt: null,
    };
  }

  ratified(decision: AcceptedDecision): void {
    if (this.#ratification) this.#ratification = { ...this.#ratification, ratifiedBy: decision.human, ratifiedAt: decision.receivedAt };
  }

  controlsRechecked(): void {
    this.#controlRechecks++;
  }

  record(): GovernanceRecord {
    return {
      escalations: [...this.#escalations],
      reminders: [...this.#reminders],
      ratification: this.#ratification,
      controlRechecks: this.#controlRechecks,
    };
  }
}
