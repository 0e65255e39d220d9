import type { EcpClient } from '../client/ecpClient';
import { canonicalJson } from '../common/canonical';
import type { Advice, AdviceVerdict, ApprovalRequirement } from '../common/advice';
import type { AttemptRecord } from '../common/record';
import type { PolicyBundle } from '../policy/bundle';
import type { Archive } from './archive/archive';
import { adviceFor } from '../policy/attemptAdvice';
import { archivedRecord, listArchived, listRetained, type AttemptSource, type AuditFilter, type ListedAttempt } from './listSources';

/** Advice reduced to what back-testing compares and reports. */
export interface AdviceView {
  verdict: AdviceVerdict;
  policyIds: string[];
  requirements: Array<Omit<ApprovalRequirement, 'policyId'> & { policyId: string }>;
}

/**
 * `verdict`: allowed ↔ denied ↔ needs approval. `requirements`: still needs approval, but from other groups, another
 * quorum, deadline or expiry. A change only in which policy ids determine the same advice is not a change (it is
 * visible in the row's policy ids).
 */
export type AdviceChange = 'verdict' | 'requirements';

export interface BacktestRow {
  attemptId: string;
  source: AttemptSource;
  agent: string;
  actionType: string;
  resource: string;
  status: string;
  startedAt: string | null;
  recorded: AdviceView;
  candidate: AdviceView;
  change: AdviceChange | null;
}

export interface BacktestReport {
  candidate: { dir: string; version: string };
  filter: { agent?: string; actionType?: string; since?: string; until?: string };
  /** Attempts found (archive and Temporal, de-duplicated by attempt ID). */
  considered: number;
  evaluated: number;
  /** Attempts that could not be re-evaluated, and why (e.g. closed before any advice was given). */
  skipped: Array<{ attemptId: string; reason: string }>;
  changed: number;
  byKind: Record<string, number>;
  /** Every evaluated attempt; `change` is null where the candidate gives the same advice. */
  rows: BacktestRow[];
  /** Set when Temporal could not be reached and only the archive was used. */
  notice: string | null;
}

export interface BacktestSources {
  archive: Archive | null;
  /** Null when Temporal is unreachable or not wanted: the archive alone is used. */
  ecp: EcpClient | null;
  notice?: string | null;
}

const view = (advice: Advice): AdviceView => ({
  verdict: advice.verdict,
  policyIds: [...advice.policyIds].sort(),
  requirements: advice.requirements.map((r) => ({ ...r, groups: [...r.groups].sort() })),
});

/** Requirements compared by substance (groups, quorum, deadline, expiry), not by the id of the policy holding them. */
const substance = (v: AdviceView) =>
  canonicalJson(v.requirements.map(({ policyId: _id, ...r }) => r).sort((a, b) => canonicalJson(a).localeCompare(canonicalJson(b))));

export function compareAdvice(recorded: AdviceView, candidate: AdviceView): AdviceChange | null {
  if (recorded.verdict !== candidate.verdict) return 'verdict';
  if (recorded.verdict === 'require_approval' && substance(recorded) !== substance(candidate)) return 'requirements';
  return null;
}

/** "allow → require_approval", for tables and summaries. */
export const changeKey = (row: BacktestRow) =>
  row.change === 'verdict' ? `${row.recorded.verdict} → ${row.candidate.verdict}` : `${row.recorded.verdict}: requirements`;

/**
 * Re-evaluates a candidate policy bundle against what really happened: each attempt's exact proposal, in the context
 * it pinned (verified facts, directory slice with the agent's owner and scopes, problems), with the plane's own rules
 * (`adviceFor`). The recorded advice is the one in the record (the advice that governed the attempt). Archived
 * attempts are read from their sealed packs; attempts Temporal still retains from their records; an attempt in both
 * counts once (the sealed record is used).
 */
export async function backtest(bundle: PolicyBundle, filter: AuditFilter, sources: BacktestSources): Promise<BacktestReport> {
  const records = new Map<string, { source: AttemptSource; record: AttemptRecord | null; listed: ListedAttempt }>();
  const skipped: BacktestReport['skipped'] = [];
  const scope: AuditFilter = { agent: filter.agent, actionType: filter.actionType, since: filter.since, until: filter.until };
  if (sources.archive) {
    const entries = new Map((await sources.archive.entries()).map((e) => [e.attemptId, e]));
    for (const listed of await listArchived(sources.archive, scope)) {
      try {
        records.set(listed.attemptId, {
          source: 'archive',
          record: await archivedRecord(sources.archive, entries.get(listed.attemptId)!),
          listed,
        });
      } catch (err) {
        skipped.push({ attemptId: listed.attemptId, reason: `archived pack unreadable: ${(err as Error).message}` });
      }
    }
  }
  if (sources.ecp) {
    const archived = new Map([...records.values()].map((r) => [r.listed.attemptId, r.listed]));
    for (const listed of await listRetained(sources.ecp, scope, { withRecords: true, archived })) {
      const known = records.get(listed.attemptId);
      if (known) known.source = 'archive+temporal';
      else records.set(listed.attemptId, { source: 'temporal', record: listed.record, listed });
    }
  }

  const rows: BacktestRow[] = [];
  for (const [attemptId, { source, record, listed }] of records) {
    if (!record) {
      skipped.push({ attemptId, reason: 'its record could not be read (a running attempt needs a worker to answer)' });
      continue;
    }
    if (!record.advice || !record.context) {
      skipped.push({ attemptId, reason: `no advice was given (status ${record.status}); nothing to compare` });
      continue;
    }
    const recorded = view(record.advice);
    const candidate = view(adviceFor(bundle, record.proposal, record.context));
    rows.push({
      attemptId,
      source,
      agent: record.proposal.agent,
      actionType: record.proposal.actionType,
      resource: record.proposal.resource,
      status: record.status,
      startedAt: listed.startedAt,
      recorded,
      candidate,
      change: compareAdvice(recorded, candidate),
    });
  }
  rows.sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? '') || a.attemptId.localeCompare(b.attemptId));
  const changedRows = rows.filter((r) => r.change);
  const byKind: Record<string, number> = {};
  for (const r of changedRows) byKind[changeKey(r)] = (byKind[changeKey(r)] ?? 0) + 1;
  return {
    candidate: { dir: bundle.dir, version: bundle.version },
    filter: { agent: filter.agent, actionType: filter.actionType, since: filter.since?.toISOString(), until: filter.until?.toISOString() },
    considered: records.size,
    evaluated: rows.length,
    skipped,
    changed: changedRows.length,
    byKind,
    rows,
    notice: sources.notice ?? null,
  };
}
