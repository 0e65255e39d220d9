/**
 * The storage contract of the evidence archive. The archive's integrity logic (content addressing, the hash chain,
 * idempotent sealing, verification) lives in `Archive`; a store only has to offer these primitives, so a local
 * directory, an S3-compatible bucket or a database table can hold the same archive:
 *
 * | primitive            | local directory (`LocalDirectoryStore`)   | S3-compatible                          | SQL database                              |
 * |----------------------|-------------------------------------------|----------------------------------------|-------------------------------------------|
 * | `putObject`          | temp file + fsync + rename + dir fsync     | PUT `objects/sha256/<hex>`              | INSERT … ON CONFLICT DO NOTHING            |
 * | `createEntry` (CAS)  | temp file + fsync + link(2) (EEXIST = lost) | PUT `index/<seq>` with `If-None-Match: *` | INSERT with seq as primary key (unique violation = lost) |
 * | `readEntries`        | readdir `index/` + read                     | LIST prefix `index/` + GET              | SELECT … WHERE seq >= ? ORDER BY seq        |
 *
 * Appending to the chain is a compare-and-set on the next sequence number: two sealers that race for the same seq
 * cannot both win, so the chain can never fork and needs no lock (and no stale-lock recovery). Stores must never
 * overwrite or delete; an archive is append-only by construction of this interface.
 */
export interface ArchiveStore {
  /** Where the archive lives, for messages (a path, a bucket URL…). */
  readonly location: string;

  /**
   * Stores `bytes` as object `hex` (the lower-case SHA-256 of the bytes; the caller computed it) unless an object of
   * that name exists. Durable when it resolves. Returns whether this call wrote it. Never overwrites.
   */
  putObject(hex: string, bytes: Uint8Array): Promise<'written' | 'present'>;

  /** The object's bytes exactly as stored, or null when there is none of that name. */
  getObject(hex: string): Promise<Uint8Array | null>;

  /** Names (hex) of every stored object, any order. For verification (orphans) and sizing. */
  listObjects(): Promise<string[]>;

  /**
   * Creates index entry `seq` with `bytes` if, and only if, no entry `seq` exists — atomically, and durable when it
   * resolves true. False means another writer created `seq` first (the caller re-reads and retries).
   */
  createEntry(seq: number, bytes: Uint8Array): Promise<boolean>;

  /** Index entries with seq >= `fromSeq`, ascending by seq, as stored (gaps are possible if one was deleted). */
  readEntries(fromSeq?: number): Promise<StoredEntry[]>;

  /** Names in the store that are neither objects nor entries (reported by verification, never touched). */
  listStrayNames(): Promise<string[]>;

  /** Total bytes the archive occupies, as the store accounts for it (on disk: allocated blocks). */
  sizeOnDisk(): Promise<{ objects: number; index: number; files: number }>;
}

export interface StoredEntry {
  /** The sequence number the store holds this entry under (its key / file name), not what its content claims. */
  seq: number;
  bytes: Uint8Array;
}
