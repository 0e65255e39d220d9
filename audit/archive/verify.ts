import { stat } from 'node:fs/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { DataConverter } from '@temporalio/common';
import { canonicalJson } from '../../common/canonical';
import { EcpError } from '../../common/errors';
import { formatPath, issuePath } from '../../common/validation';
import { evidencePackSchema, type EvidencePack } from '../pack/schema';
import { verifyPacks, type PackVerdict } from '../pack/verify';
import { summarizeTrustRoot, type TrustRoot, type TrustRootSummary } from '../pack/trust';
import { entryHash, indexEntrySchema, summarize, type IndexEntry } from './entry';
import { LocalDirectoryStore } from './localStore';
import type { ArchiveStore } from './store';

/** Packs verified per replay batch: bounds memory (packs are tens of KiB) while sharing one replay worker. */
const VERIFY_BATCH = 100;

export type ArchiveProblemKind =
  | 'entry_unreadable'
  | 'entry_missing'
  | 'entry_misplaced'
  | 'entry_altered'
  | 'chain_broken'
  | 'duplicate_attempt'
  | 'object_missing'
  | 'object_altered'
  | 'summary_mismatch'
  | 'pack_invalid'
  | 'checkpoint_mismatch';

export interface ArchiveProblem {
  kind: ArchiveProblemKind;
  /** The index entry concerned (its position in the index), when there is one. */
  seq: number | null;
  attemptId: string | null;
  message: string;
}

export interface ArchiveVerification {
  /** No problem found. Without a trust root this means internally consistent only: read `verdict`. */
  ok: boolean;
  /** `PASS` only when there is no problem and every pack was checked against a trust root; `CONSISTENT` without one. */
  verdict: PackVerdict;
  /** The trust root every pack was verified against, or null. */
  trustRoot: TrustRootSummary | null;
  location: string;
  /** Index entries found. */
  entries: number;
  /** Packs that passed `verifyPack` (with or without replay, see `replayed`). */
  packsVerified: number;
  replayed: boolean;
  /** The last entry: record it elsewhere and pass it back as `checkpoint` to detect a truncated or rewritten tail. */
  head: { seq: number; hash: string } | null;
  problems: ArchiveProblem[];
  /** Findings that are not integrity failures (e.g. an object left by an interrupted seal). */
  notes: string[];
}

export interface VerifyArchiveOptions {
  /** Replay every pack's history against the workflow code (default true; false checks digests and signatures only). */
  replay?: boolean;
  /** A head recorded earlier (`<seq>:sha256:<hex>`, or parsed): entry `seq` must still exist with exactly this hash. */
  checkpoint?: string | { seq: number; hash: string };
  dataConverter?: DataConverter;
  /** The trust root outside the archive every pack's directory slice and code identity must be in (see verifyPack). */
  trust?: TrustRoot | null;
  store?: ArchiveStore;
  /** Called after each entry, for progress output. */
  onEntry?: (seq: number, total: number) => void;
}

/**
 * Checks a whole archive: every index entry parses, sits at its own position, hashes to its `hash` and links to its
 * predecessor; no position is missing; every pack object exists and hashes to its name; the index summary matches
 * the pack's record; every pack passes `verifyPack`. Each finding names the entry and attempt — deleted, altered or
 * reordered. A chain alone cannot notice its newest entries being cut off: pass a `checkpoint` for that.
 */
export async function verifyArchive(dir: string, options: VerifyArchiveOptions = {}): Promise<ArchiveVerification> {
  const store = options.store ?? new LocalDirectoryStore(dir);
  // A folder that is not there is a wrong path, not an empty archive (a database store creates its tables instead).
  if (store instanceof LocalDirectoryStore) {
    const s = await stat(store.location).catch(() => null);
    if (!s?.isDirectory()) throw new EcpError('not_found', `no archive at ${store.location}`);
  }
  const replay = options.replay ?? true;
  const checkpoint = parseCheckpoint(options.checkpoint);
  const problems: ArchiveProblem[] = [];
  const notes: string[] = [];
  const problem = (kind: ArchiveProblemKind, seq: number | null, attemptId: string | null, message: string) =>
    problems.push({ kind, seq, attemptId, message });

  const stored = await store.readEntries(1);
  // Parse every entry first, so links can be checked by the seq each entry claims (a swap of two files is then
  // reported once, as a reordering, not as a cascade of broken links).
  const byClaimedSeq = new Map<number, IndexEntry>();
  const parsed: Array<{ position: number; entry: IndexEntry }> = [];
  for (const { seq: position, bytes } of stored) {
    let entry: IndexEntry;
    try {
      const result = indexEntrySchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
      if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join('.') || '(entry)'} ${i.message}`).join('; '));
      entry = result.data;
    } catch (err) {
      problem('entry_unreadable', position, null, `index entry ${position} is not a valid entry: ${(err as Error).message}`);
      continue;
    }
    if (entry.seq !== position) {
      problem(
        'entry_misplaced',
        position,
        entry.attemptId,
        `index position ${position} holds entry ${entry.seq} (${entry.attemptId}): entries were reordered or moved`,
      );
    }
    if (entryHash(entry) !== entry.hash) {
      problem(
        'entry_altered',
        position,
        entry.attemptId,
        `index entry ${position} (${entry.attemptId}) does not hash to its recorded hash: it was altered after sealing`,
      );
    }
    if (!byClaimedSeq.has(entry.seq)) byClaimedSeq.set(entry.seq, entry);
    parsed.push({ position, entry });
  }

  const positions = new Set(stored.map((s) => s.seq));
  const maxSeq = Math.max(0, ...positions, ...byClaimedSeq.keys());
  for (let seq = 1; seq <= maxSeq; seq++) {
    if (!byClaimedSeq.has(seq) && !positions.has(seq)) {
      const next = byClaimedSeq.get(seq + 1);
      problem(
        'entry_missing',
        seq,
        null,
        `index entry ${seq} is missing: it was deleted${next ? ` (entry ${seq + 1}, ${next.attemptId}, links to it)` : ''}`,
      );
    }
  }

  const seenAttempts = new Map<string, number>();
  const referenced = new Set<string>();
  let packsVerified = 0;
  // Packs are verified in batches: one replay worker per batch instead of one per pack.
  let batch: Array<{ position: number; entry: IndexEntry; pack: EvidencePack; clean: boolean }> = [];
  const flush = async () => {
    const results = await verifyPacks(
      batch.map((b) => b.pack),
      { dataConverter: options.dataConverter, replay, trust: options.trust ?? null },
    );
    for (const [i, { position, entry, clean }] of batch.entries()) {
      const failed = results[i]!.checks.filter((c) => !c.ok && !c.advisory);
      if (failed.length === 0 && clean) packsVerified++;
      else
        problem(
          'pack_invalid',
          position,
          entry.attemptId,
          `the evidence pack of ${entry.attemptId} (entry ${entry.seq}) fails verification: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
        );
    }
    batch = [];
  };
  for (const [i, { position, entry }] of parsed.entries()) {
    options.onEntry?.(i + 1, parsed.length);
    const previous = byClaimedSeq.get(entry.seq - 1);
    if (entry.seq === 1 && entry.prev !== null)
      problem('chain_broken', position, entry.attemptId, `entry 1 (${entry.attemptId}) claims a predecessor; the chain was re-rooted`);
    if (entry.seq > 1 && previous && entry.prev !== previous.hash) {
      problem(
        'chain_broken',
        position,
        entry.attemptId,
        `entry ${entry.seq} (${entry.attemptId}) does not link to entry ${entry.seq - 1} (${previous.attemptId}) as it is now: that entry was replaced or rewritten, or one was inserted`,
      );
    }
    const first = seenAttempts.get(entry.attemptId);
    if (first !== undefined)
      problem(
        'duplicate_attempt',
        position,
        entry.attemptId,
        `attempt ${entry.attemptId} is sealed twice (entries ${first} and ${entry.seq})`,
      );
    else seenAttempts.set(entry.attemptId, entry.seq);

    referenced.add(entry.object.sha256);
    const bytes = await store.getObject(entry.object.sha256);
    if (!bytes) {
      problem(
        'object_missing',
        position,
        entry.attemptId,
        `the evidence pack of ${entry.attemptId} (entry ${entry.seq}, object ${entry.object.sha256}) is missing: it was deleted`,
      );
      continue;
    }
    const actual = bytesToHex(sha256(bytes));
    if (actual !== entry.object.sha256 || bytes.length !== entry.object.bytes) {
      problem(
        'object_altered',
        position,
        entry.attemptId,
        `the evidence pack of ${entry.attemptId} (entry ${entry.seq}) was altered: object ${entry.object.sha256} now hashes to ${actual} (${bytes.length} bytes, sealed ${entry.object.bytes})`,
      );
      continue;
    }
    const checked = parseSealedPack(bytes, entry);
    for (const f of checked.problems) problem(f.kind, position, entry.attemptId, f.message);
    if (checked.pack) batch.push({ position, entry, pack: checked.pack, clean: checked.problems.length === 0 });
    if (batch.length >= VERIFY_BATCH) await flush();
  }
  if (batch.length > 0) await flush();

  for (const hex of await store.listObjects()) {
    if (!referenced.has(hex)) notes.push(`object ${hex} is in no index entry (an interrupted or raced seal leaves one; harmless)`);
  }
  for (const name of await store.listStrayNames()) notes.push(`unexpected file ${name} (ignored)`);

  const last = byClaimedSeq.get(maxSeq);
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  if (checkpoint) {
    const at = byClaimedSeq.get(checkpoint.seq);
    if (!at)
      problem(
        'checkpoint_mismatch',
        checkpoint.seq,
        null,
        `the checkpoint names entry ${checkpoint.seq}, but the index ends at ${maxSeq}: its tail was cut off`,
      );
    else if (at.hash !== checkpoint.hash)
      problem(
        'checkpoint_mismatch',
        checkpoint.seq,
        at.attemptId,
        `entry ${checkpoint.seq} now hashes to ${at.hash}, not the checkpoint's ${checkpoint.hash}: the chain was rewritten`,
      );
  }
  const ok = problems.length === 0;
  const trustRoot = options.trust ? summarizeTrustRoot(options.trust) : null;
  if (!options.trust)
    notes.push(
      "no trust root: only internal consistency was checked (every pack's directory and code identity were taken from the pack itself)",
    );
  return {
    ok,
    verdict: !ok ? 'FAIL' : trustRoot ? 'PASS' : 'CONSISTENT',
    trustRoot,
    location: store.location,
    entries: stored.length,
    packsVerified,
    replayed: replay,
    head,
    problems,
    notes,
  };
}

/** Parses a sealed pack and checks it is the one its entry describes (attempt and index summary). */
function parseSealedPack(
  bytes: Uint8Array,
  entry: IndexEntry,
): { pack: EvidencePack | null; problems: Array<{ kind: ArchiveProblemKind; message: string }> } {
  const where = `the evidence pack of ${entry.attemptId} (entry ${entry.seq})`;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    return { pack: null, problems: [{ kind: 'pack_invalid', message: `${where} is not JSON: ${(err as Error).message}` }] };
  }
  const parsed = evidencePackSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      pack: null,
      problems: [
        {
          kind: 'pack_invalid',
          message: `${where} is not an evidence pack: field "${formatPath(issuePath(issue))}" ${issue?.message ?? 'is invalid'}`,
        },
      ],
    };
  }
  const pack = parsed.data;
  const problems: Array<{ kind: ArchiveProblemKind; message: string }> = [];
  if (pack.attemptId !== entry.attemptId) problems.push({ kind: 'summary_mismatch', message: `${where} is the pack of ${pack.attemptId}` });
  let summaryText: string | null = null;
  try {
    summaryText = canonicalJson(summarize(pack.parts.record));
  } catch {
    problems.push({ kind: 'pack_invalid', message: `${where}: its record is malformed` });
  }
  if (summaryText !== null && summaryText !== canonicalJson(entry.summary)) {
    problems.push({ kind: 'summary_mismatch', message: `${where}: the index summary does not match the pack's record` });
  }
  return { pack, problems };
}

function parseCheckpoint(value: VerifyArchiveOptions['checkpoint']): { seq: number; hash: string } | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') return value;
  const match = /^(\d+):(sha256:[0-9a-f]{64})$/.exec(value.trim());
  if (!match)
    throw new EcpError(
      'invalid_input',
      `checkpoint must look like <seq>:sha256:<64 hex> (as \`ecp audit archive-status\` prints it), not "${value}"`,
      'checkpoint',
    );
  return { seq: Number(match[1]), hash: match[2]! };
}
