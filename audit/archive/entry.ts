import { z } from 'zod';
import { ATTEMPT_STATUSES, type AttemptRecord } from '../../common/record';
import { canonicalJson, digestOf } from '../../common/canonical';

export const ENTRY_VERSION = 1;
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256:<64 hex>');

/**
 * What the index says about an archived attempt, so `ecp audit list` can filter without opening every pack.
 * It is covered by the entry hash (so the chain protects it) and verification checks it against the pack's record.
 */
export const entrySummarySchema = z.strictObject({
  status: z.enum(ATTEMPT_STATUSES),
  agent: z.string(),
  actionType: z.string(),
  resource: z.string(),
  proposalHash: digest,
  recordDigest: digest,
  adviceVerdict: z.enum(['allow', 'deny', 'require_approval']).nullable(),
  startedAt: z.string(),
  closedAt: z.string(),
  /** Accepted decisions only: who decided and how. */
  decisions: z.array(z.strictObject({ human: z.string(), verdict: z.string() })),
});
export type EntrySummary = z.output<typeof entrySummarySchema>;

/** One link of the hash chain: entry `seq` seals one attempt's evidence pack and commits to entry `seq - 1`. */
export const indexEntrySchema = z.strictObject({
  v: z.literal(ENTRY_VERSION),
  seq: z.number().int().min(1),
  attemptId: z.string().min(1),
  /** The pack object: SHA-256 of its exact bytes (its name in the store) and its length. */
  object: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(1) }),
  sealedAt: z.string(),
  summary: entrySummarySchema,
  /** `hash` of entry `seq - 1`; null only for entry 1. */
  prev: digest.nullable(),
  /** digestOf(every other field): what the next entry commits to. */
  hash: digest,
});
export type IndexEntry = z.output<typeof indexEntrySchema>;

/** Builds and hashes the next entry. */
export function makeEntry(fields: Omit<IndexEntry, 'v' | 'hash'>): IndexEntry {
  const body = { v: ENTRY_VERSION, ...fields } as const;
  return { ...body, hash: entryHash(body) };
}

export function entryHash(entry: Omit<IndexEntry, 'hash'> | IndexEntry): string {
  const { hash: _omit, ...body } = entry as IndexEntry;
  return digestOf(body);
}

/** The stored form: canonical JSON and a newline, so `cat index/*` reads as JSON Lines. */
export function entryBytes(entry: IndexEntry): Uint8Array {
  return new TextEncoder().encode(`${canonicalJson(entry)}\n`);
}

/** The index summary of a closed attempt's final record. */
export function summarize(record: AttemptRecord): EntrySummary {
  const timeline = record.timeline;
  return {
    status: record.status,
    agent: record.proposal.agent,
    actionType: record.proposal.actionType,
    resource: record.proposal.resource,
    proposalHash: record.proposalHash,
    recordDigest: record.digest,
    adviceVerdict: record.advice?.verdict ?? null,
    startedAt: timeline[0]?.at ?? '',
    closedAt: timeline[timeline.length - 1]?.at ?? '',
    decisions: record.decisions.accepted.map((d) => ({ human: d.human, verdict: d.verdict })),
  };
}
