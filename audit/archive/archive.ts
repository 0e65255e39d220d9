import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { EcpError } from '../../common/errors';
import { parseOrThrow } from '../../common/validation';
import type { EvidencePack } from '../pack/schema';
import { packBytes } from '../pack/io';
import { entryBytes, indexEntrySchema, makeEntry, summarize, type IndexEntry } from './entry';
import { LocalDirectoryStore } from './localStore';
import type { ArchiveStore } from './store';

export interface SealResult {
  attemptId: string;
  /** `sealed`: this call appended it; `already`: it was in the archive (nothing written to the index). */
  outcome: 'sealed' | 'already';
  entry: IndexEntry;
}

/** How many times a sealer re-reads and retries after losing the race for the next seq before giving up. */
const MAX_APPEND_RACES = 50;

/** `<dataDir>/archive`: the default archive of a plane. */
export function defaultArchiveDir(dataDir: string): string {
  return join(dataDir, 'archive');
}

/**
 * The append-only evidence archive: content-addressed pack objects plus a hash-chained index, over any
 * `ArchiveStore`. Sealing is idempotent per attempt ID, and appends are a compare-and-set on the next sequence
 * number, so concurrent sealers (the archiver workflow's activity, `ecp audit archive`, several workers) never fork
 * the chain or seal an attempt twice. The index is cached in memory and refreshed incrementally before each seal.
 */
export class Archive {
  #entries: IndexEntry[] = [];
  #byAttempt = new Map<string, IndexEntry>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly store: ArchiveStore) {}

  static local(dir: string): Archive {
    return new Archive(new LocalDirectoryStore(dir));
  }

  get location(): string {
    return this.store.location;
  }

  /** Entries in chain order, as read (and schema-checked) so far. `verifyArchive` checks the chain itself. */
  async entries(): Promise<IndexEntry[]> {
    await this.#refresh();
    return [...this.#entries];
  }

  async find(attemptId: string): Promise<IndexEntry | undefined> {
    await this.#refresh();
    return this.#byAttempt.get(attemptId);
  }

  /** The sealed pack bytes of an entry, checked against the entry's object hash. */
  async packBytesOf(entry: IndexEntry): Promise<Uint8Array> {
    const bytes = await this.store.getObject(entry.object.sha256);
    if (!bytes)
      throw new EcpError('not_found', `archive ${this.location}: pack of ${entry.attemptId} (object ${entry.object.sha256}) is missing`);
    if (bytesToHex(sha256(bytes)) !== entry.object.sha256) {
      throw new EcpError(
        'refused',
        `archive ${this.location}: pack of ${entry.attemptId} does not hash to its name ${entry.object.sha256} (altered)`,
      );
    }
    return bytes;
  }

  /**
   * Seals an attempt's evidence pack. `produce` runs only when the attempt is not yet archived, so re-sealing an
   * archived attempt costs an index lookup. Calls within one process are serialised; across processes the seq
   * compare-and-set decides.
   */
  seal(attemptId: string, produce: () => Promise<EvidencePack>): Promise<SealResult> {
    const run = this.#queue.then(() => this.#seal(attemptId, produce));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #seal(attemptId: string, produce: () => Promise<EvidencePack>): Promise<SealResult> {
    await this.#refresh();
    const existing = this.#byAttempt.get(attemptId);
    if (existing) return { attemptId, outcome: 'already', entry: existing };
    const pack = await produce();
    if (pack.attemptId !== attemptId) {
      throw new EcpError('internal', `evidence pack for ${attemptId} names attempt ${pack.attemptId}`);
    }
    const bytes = packBytes(pack);
    const hex = bytesToHex(sha256(bytes));
    await this.store.putObject(hex, bytes);
    const summary = summarize(pack.parts.record);
    for (let race = 0; race < MAX_APPEND_RACES; race++) {
      const head = this.#entries[this.#entries.length - 1];
      const entry = makeEntry({
        seq: (head?.seq ?? 0) + 1,
        attemptId,
        object: { sha256: hex, bytes: bytes.length },
        sealedAt: new Date().toISOString(),
        summary,
        prev: head?.hash ?? null,
      });
      if (await this.store.createEntry(entry.seq, entryBytes(entry))) {
        this.#add(entry);
        return { attemptId, outcome: 'sealed', entry };
      }
      // Another sealer took this seq: catch up, and stop if it sealed this very attempt.
      await this.#refresh();
      const raced = this.#byAttempt.get(attemptId);
      if (raced) return { attemptId, outcome: 'already', entry: raced };
    }
    throw new EcpError('conflict', `archive ${this.location}: lost the race for the next index entry ${MAX_APPEND_RACES} times; try again`);
  }

  async #refresh(): Promise<void> {
    const from = (this.#entries[this.#entries.length - 1]?.seq ?? 0) + 1;
    for (const stored of await this.store.readEntries(from)) {
      let entry: IndexEntry;
      try {
        entry = parseOrThrow(indexEntrySchema, JSON.parse(new TextDecoder().decode(stored.bytes)), `archive index entry ${stored.seq}`);
      } catch (err) {
        throw new EcpError(
          'refused',
          `archive ${this.location}: index entry ${stored.seq} is unreadable (${(err as Error).message}); run \`ecp audit verify --archive\``,
        );
      }
      if (entry.seq !== stored.seq) {
        throw new EcpError(
          'refused',
          `archive ${this.location}: index entry ${stored.seq} claims seq ${entry.seq}; run \`ecp audit verify --archive\``,
        );
      }
      this.#add(entry);
    }
  }

  #add(entry: IndexEntry): void {
    this.#entries.push(entry);
    if (!this.#byAttempt.has(entry.attemptId)) this.#byAttempt.set(entry.attemptId, entry);
  }
}
