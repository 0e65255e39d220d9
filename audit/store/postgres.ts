import pg from 'pg';
import { EcpError } from '../../common/errors';
import type { ArchiveStore, StoredEntry } from '../archive/store';
import type { KeptDocument, KeptKind, KeptStore } from './kept';

const HEX = /^[0-9a-f]{64}$/;
/** Any constant: serialises schema creation across workers starting together (CREATE … IF NOT EXISTS can race). */
const SCHEMA_LOCK = 0x45_43_50_53; // "ECPS"

/**
 * The schema, created idempotently on first use. Tables are append-only by construction of the store interfaces
 * (INSERT … ON CONFLICT DO NOTHING, never UPDATE or DELETE) and, as a guard against accidents, by a trigger that
 * refuses UPDATE and DELETE. The archive's integrity does not rest on the trigger: `ecp audit verify --archive`
 * detects any change a database owner could still make.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS ecp_archive_objects (
  name text PRIMARY KEY CHECK (name ~ '^[0-9a-f]{64}$'),
  bytes bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS ecp_archive_index (
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  bytes bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS ecp_kept (
  kind text NOT NULL,
  name text NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (kind, name)
);
CREATE OR REPLACE FUNCTION ecp_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ECP stores are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;
CREATE OR REPLACE TRIGGER ecp_append_only BEFORE UPDATE OR DELETE ON ecp_archive_objects
  FOR EACH ROW EXECUTE FUNCTION ecp_refuse_change();
CREATE OR REPLACE TRIGGER ecp_append_only BEFORE UPDATE OR DELETE ON ecp_archive_index
  FOR EACH ROW EXECUTE FUNCTION ecp_refuse_change();
CREATE OR REPLACE TRIGGER ecp_append_only BEFORE UPDATE OR DELETE ON ecp_kept
  FOR EACH ROW EXECUTE FUNCTION ecp_refuse_change();
`;

/** A PostgreSQL URL with its password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

/**
 * The shared store on PostgreSQL: the evidence archive (`ecp_archive_objects`, `ecp_archive_index`) and the kept
 * versions (`ecp_kept`) every worker and reader of a plane uses, wherever it runs. Appending to the archive's chain is
 * a compare-and-set on the index's primary key (`INSERT … ON CONFLICT (seq) DO NOTHING`): of two workers racing for
 * the same position exactly one row is inserted, so the chain cannot fork and needs no lock. Every write is one
 * auto-committed statement, durable when it resolves, and idempotent, so a retried activity repeats it harmlessly.
 * Connection errors surface as `EcpError('connection')` naming the store; nothing is retried here (the caller's
 * retry policy decides: the archiver's activity is retried by Temporal).
 */
export class PostgresStore implements ArchiveStore, KeptStore {
  readonly location: string;
  readonly #pool: pg.Pool;
  #ready: Promise<void> | undefined;

  constructor(url: string, options: { maxConnections?: number } = {}) {
    this.location = redactUrl(url);
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: 10_000,
      // A CLI command ends when its work is done; idle connections must not hold the process open.
      allowExitOnIdle: true,
    });
    // An idle connection the server drops must not crash the process: the next query reconnects or reports.
    this.#pool.on('error', () => {});
  }

  /** Connects and creates the schema if needed; throws `EcpError('connection')` naming the store when it cannot. */
  ready(): Promise<void> {
    this.#ready ??= this.#createSchema().catch((err: unknown) => {
      this.#ready = undefined; // the next call tries again (the database may come up later)
      throw err;
    });
    return this.#ready;
  }

  async #createSchema(): Promise<void> {
    const client = await this.#connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query(SCHEMA);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw this.#error('cannot create its tables', err);
    } finally {
      client.release();
    }
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw this.#error('is not reachable', err);
    }
  }

  #error(what: string, err: unknown): EcpError {
    if (err instanceof EcpError) return err;
    return new EcpError('connection', `store ${this.location} ${what}: ${(err as Error).message}`, 'ECP_STORE_URL');
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    await this.ready();
    try {
      return await this.#pool.query<R>(text, values);
    } catch (err) {
      throw this.#error('refused a query', err);
    }
  }

  async putObject(hex: string, bytes: Uint8Array): Promise<'written' | 'present'> {
    if (!HEX.test(hex)) throw new EcpError('invalid_input', `object name must be 64 lower-case hex characters, not "${hex}"`);
    const r = await this.#query('INSERT INTO ecp_archive_objects (name, bytes) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      hex,
      Buffer.from(bytes),
    ]);
    return r.rowCount === 1 ? 'written' : 'present';
  }

  async getObject(hex: string): Promise<Uint8Array | null> {
    if (!HEX.test(hex)) return null;
    const r = await this.#query<{ bytes: Buffer }>('SELECT bytes FROM ecp_archive_objects WHERE name = $1', [hex]);
    return r.rows[0] ? new Uint8Array(r.rows[0].bytes) : null;
  }

  async listObjects(): Promise<string[]> {
    return (await this.#query<{ name: string }>('SELECT name FROM ecp_archive_objects')).rows.map((r) => r.name);
  }

  async createEntry(seq: number, bytes: Uint8Array): Promise<boolean> {
    if (!Number.isSafeInteger(seq) || seq < 1) throw new EcpError('invalid_input', `entry seq must be a positive integer, not ${seq}`);
    const r = await this.#query('INSERT INTO ecp_archive_index (seq, bytes) VALUES ($1, $2) ON CONFLICT (seq) DO NOTHING', [
      seq,
      Buffer.from(bytes),
    ]);
    return r.rowCount === 1;
  }

  async readEntries(fromSeq = 1): Promise<StoredEntry[]> {
    const r = await this.#query<{ seq: string; bytes: Buffer }>(
      'SELECT seq::text AS seq, bytes FROM ecp_archive_index WHERE seq >= $1 ORDER BY seq',
      [fromSeq],
    );
    return r.rows.map((row) => ({ seq: Number(row.seq), bytes: new Uint8Array(row.bytes) }));
  }

  /** The schema's CHECK constraints admit no other names. */
  listStrayNames(): Promise<string[]> {
    return Promise.resolve([]);
  }

  async sizeOnDisk(): Promise<{ objects: number; index: number; files: number }> {
    const r = await this.#query<{ objects: string; index: string; files: string }>(
      `SELECT (SELECT coalesce(sum(octet_length(bytes)), 0) FROM ecp_archive_objects)::text AS objects,
              (SELECT coalesce(sum(octet_length(bytes)), 0) FROM ecp_archive_index)::text AS index,
              ((SELECT count(*) FROM ecp_archive_objects) + (SELECT count(*) FROM ecp_archive_index))::text AS files`,
    );
    const row = r.rows[0]!;
    return { objects: Number(row.objects), index: Number(row.index), files: Number(row.files) };
  }

  async keep(kind: KeptKind, name: string, text: string): Promise<void> {
    await this.#query('INSERT INTO ecp_kept (kind, name, body) VALUES ($1, $2, $3) ON CONFLICT (kind, name) DO NOTHING', [
      kind,
      name,
      text,
    ]);
  }

  async list(kind: KeptKind, prefix = ''): Promise<KeptDocument[]> {
    // starts_with, not LIKE: a prefix is data, never a pattern.
    const r = await this.#query<{ name: string; body: string }>(
      'SELECT name, body FROM ecp_kept WHERE kind = $1 AND starts_with(name, $2) ORDER BY name COLLATE "C"',
      [kind, prefix],
    );
    return r.rows.map((row) => ({ name: row.name, text: row.body }));
  }

  /** Closes the connections (idempotent). */
  async close(): Promise<void> {
    if (this.#pool.ended) return;
    await this.#pool.end();
  }
}
