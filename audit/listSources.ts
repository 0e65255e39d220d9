import type { Client } from '@temporalio/client';
import type { EcpClient } from '../client/ecpClient';
import { buildListQuery } from '../client/listQuery';
import { EcpError } from '../common/errors';
import { ATTEMPT_STATUSES, type AttemptRecord, type AttemptStatus } from '../common/record';
import { actionTypeKey, agentKey, statusKey } from '../common/searchAttributes';
import type { Archive } from './archive/archive';
import { summarize, type IndexEntry } from './archive/entry';
import { parsePack } from './pack/io';

/** What auditors filter on. The time range bounds when the attempt was proposed (its start), inclusive/exclusive. */
export interface AuditFilter {
  agent?: string;
  actionType?: string;
  status?: AttemptStatus;
  /** A human with an accepted `approve` decision on the attempt. */
  approver?: string;
  /** Only attempts with an accepted break-glass override (docs/governance.md). */
  overridden?: boolean;
  since?: Date;
  until?: Date;
}

export type AttemptSource = 'archive' | 'temporal' | 'archive+temporal';

/** One attempt as `ecp audit list` reports it (also one JSON Lines record for SIEM ingestion). */
export interface ListedAttempt {
  attemptId: string;
  source: AttemptSource;
  status: AttemptStatus | 'UNKNOWN';
  agent: string | null;
  actionType: string | null;
  resource: string | null;
  adviceVerdict: string | null;
  /** Accepted decisions; null when not known (a visibility row whose record was not read). */
  decisions: Array<{ human: string; verdict: string }> | null;
  startedAt: string | null;
  closedAt: string | null;
  proposalHash: string | null;
  /** Where the sealed pack is: index position and object hash. */
  archive: { seq: number; object: string } | null;
}

/** Parses `--status` (any case) strictly. */
export function parseStatus(value: string | undefined): AttemptStatus | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (!(ATTEMPT_STATUSES as readonly string[]).includes(upper)) {
    throw new EcpError('invalid_input', `--status must be one of ${ATTEMPT_STATUSES.join(', ')}, not "${value}"`, 'status');
  }
  return upper as AttemptStatus;
}

/** Parses `--since` / `--until`: an ISO 8601 time, or a duration back from now like 90m, 24h, 7d. */
export function parseTime(value: string | undefined, field: string, now = Date.now()): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (relative) return new Date(now - Number(relative[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[relative[2] as 's' | 'm' | 'h' | 'd']);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed))
    throw new EcpError(
      'invalid_input',
      `--${field} must be an ISO 8601 time (2025-01-31, 2025-01-31T12:00Z) or an age like 24h or 7d, not "${value}"`,
      field,
    );
  return new Date(parsed);
}

const inRange = (iso: string | null, filter: AuditFilter) => {
  if (!filter.since && !filter.until) return true;
  if (!iso) return false;
  const t = Date.parse(iso);
  return (!filter.since || t >= filter.since.getTime()) && (!filter.until || t < filter.until.getTime());
};

function matches(item: ListedAttempt, filter: AuditFilter): boolean {
  if (filter.agent && item.agent !== filter.agent) return false;
  if (filter.actionType && item.actionType !== filter.actionType) return false;
  if (filter.status && item.status !== filter.status) return false;
  if (filter.approver && !item.decisions?.some((d) => d.human === filter.approver && d.verdict === 'approve')) return false;
  if (filter.overridden && !item.decisions?.some((d) => d.verdict === 'override')) return false;
  return inRange(item.startedAt, filter);
}

function fromEntry(entry: IndexEntry): ListedAttempt {
  const s = entry.summary;
  return {
    attemptId: entry.attemptId,
    source: 'archive',
    status: s.status,
    agent: s.agent,
    actionType: s.actionType,
    resource: s.resource,
    adviceVerdict: s.adviceVerdict,
    decisions: s.decisions,
    startedAt: s.startedAt || null,
    closedAt: s.closedAt || null,
    proposalHash: s.proposalHash,
    archive: { seq: entry.seq, object: entry.object.sha256 },
  };
}

/** Archived attempts matching the filter (from the index summaries, which verification checks against the packs). */
export async function listArchived(archive: Archive, filter: AuditFilter): Promise<ListedAttempt[]> {
  const seen = new Set<string>();
  const out: ListedAttempt[] = [];
  for (const entry of await archive.entries()) {
    if (seen.has(entry.attemptId)) continue;
    seen.add(entry.attemptId);
    const item = fromEntry(entry);
    if (matches(item, filter)) out.push(item);
  }
  return out;
}

/** The record sealed in an archive entry (the pack's bytes are checked against the entry's hash first). */
export async function archivedRecord(archive: Archive, entry: IndexEntry): Promise<AttemptRecord> {
  const bytes = await archive.packBytesOf(entry);
  const pack = parsePack(JSON.parse(new TextDecoder().decode(bytes)), `archived pack of ${entry.attemptId}`);
  return pack.parts.record; // parsed with the pack: the record schema is part of the pack's
}

/** The visibility query for a filter: ECP's search attributes plus the start-time range. */
export function visibilityQuery(filter: AuditFilter): string {
  const parts = [buildListQuery({ agent: filter.agent, actionType: filter.actionType, status: filter.status })];
  if (filter.since) parts.push(`StartTime >= "${filter.since.toISOString()}"`);
  if (filter.until) parts.push(`StartTime < "${filter.until.toISOString()}"`);
  return parts.join(' AND ');
}

/**
 * Attempts Temporal still retains, matching the filter. Rows come from visibility, only those with a valid listing
 * seal (client/listingSeal.ts); records are read (one call each)
 * only when `withRecords` is set or an approver filter needs them — a record that cannot be read (a running attempt
 * with no worker to answer the query) leaves `decisions` null, and such a row never matches an approver filter.
 * Attempts in `archived` are matched by their sealed summary and marked `archive+temporal`.
 */
export async function listRetained(
  ecp: EcpClient,
  filter: AuditFilter,
  options: { limit?: number; withRecords?: boolean; archived?: Map<string, ListedAttempt> } = {},
): Promise<Array<ListedAttempt & { record: AttemptRecord | null }>> {
  const out: Array<ListedAttempt & { record: AttemptRecord | null }> = [];
  const client: Client = ecp.client;
  for await (const info of client.workflow.list({ query: visibilityQuery(filter) })) {
    // Archived too: the sealed summary decides (no record read), the row only marks it as still retained.
    const sealed = options.archived?.get(info.workflowId);
    if (sealed) {
      if (matches(sealed, filter)) out.push({ ...sealed, source: 'archive+temporal', record: null });
      if (options.limit && out.length >= options.limit) break;
      continue;
    }
    // A row the plane did not seal was started around it, with attributes of the starter's choosing: not an attempt.
    if (!ecp.isSealed(info)) continue;
    const sa = info.typedSearchAttributes;
    let item: ListedAttempt & { record: AttemptRecord | null } = {
      attemptId: info.workflowId,
      source: 'temporal',
      status: (sa.get(statusKey) as AttemptStatus | undefined) ?? 'UNKNOWN',
      agent: sa.get(agentKey) ?? null,
      actionType: sa.get(actionTypeKey) ?? null,
      resource: typeof info.memo?.resource === 'string' ? info.memo.resource : null,
      adviceVerdict: null,
      decisions: null,
      startedAt: info.startTime.toISOString(),
      closedAt: info.closeTime ? info.closeTime.toISOString() : null,
      proposalHash: null,
      archive: null,
      record: null,
    };
    if (options.withRecords || filter.approver || filter.overridden) {
      const record = await ecp.getRecord(info.workflowId).catch(() => null);
      if (record) {
        const s = summarize(record);
        item = {
          ...item,
          record,
          status: s.status,
          adviceVerdict: s.adviceVerdict,
          decisions: s.decisions,
          proposalHash: s.proposalHash,
          resource: s.resource,
        };
      }
    }
    if (!matches(item, filter)) continue;
    out.push(item);
    if (options.limit && out.length >= options.limit) break;
  }
  return out;
}

/** Archive and visibility rows merged by attempt ID (the sealed summary wins; the source says where it was found). */
export function mergeListings(archived: ListedAttempt[], retained: ListedAttempt[]): ListedAttempt[] {
  const byId = new Map<string, ListedAttempt>(archived.map((a) => [a.attemptId, a]));
  for (const r of retained) {
    const a = byId.get(r.attemptId);
    byId.set(r.attemptId, a ? { ...a, source: 'archive+temporal' } : r);
  }
  return [...byId.values()].sort((x, y) => (y.startedAt ?? '').localeCompare(x.startedAt ?? '') || x.attemptId.localeCompare(y.attemptId));
}
