import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EcpError } from '../../common/errors';
import { LocalDirectoryStore } from '../../audit/archive/localStore';
import { LocalKeptStore } from '../../audit/store/kept';
import { openPlaneStores, storeUrlFromEnv } from '../../audit/store/open';
import { PostgresStore, redactUrl } from '../../audit/store/postgres';

const dir = mkdtempSync(join(tmpdir(), 'ecp-stores-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('store selection (ECP_STORE_URL)', () => {
  it('unset or empty: the data dir (archive folder + kept versions)', () => {
    for (const env of [{}, { ECP_STORE_URL: '  ' }]) {
      const stores = openPlaneStores({ dataDir: dir, archiveDir: join(dir, 'archive'), env });
      expect(stores.kind).toBe('local');
      expect(stores.archive).toBeInstanceOf(LocalDirectoryStore);
      expect(stores.kept).toBeInstanceOf(LocalKeptStore);
    }
  });

  it('a postgres:// URL: one PostgreSQL store for the archive and the kept versions, password never shown', async () => {
    const stores = openPlaneStores({
      dataDir: dir,
      archiveDir: join(dir, 'archive'),
      env: { ECP_STORE_URL: 'postgres://ecp:s3cret@db:5432/ecp' },
    });
    expect(stores.kind).toBe('postgres');
    expect(stores.archive).toBeInstanceOf(PostgresStore);
    expect(stores.kept).toBe(stores.archive);
    expect(stores.location).not.toContain('s3cret');
    await stores.close();
    expect(redactUrl('postgresql://u:p@h/d')).toBe('postgresql://u:***@h/d');
  });

  it('refuses anything else, and ECP_ARCHIVE_DIR next to a shared store, naming the variable', () => {
    const err = (() => {
      try {
        storeUrlFromEnv({ ECP_STORE_URL: 'mysql://db/ecp' });
      } catch (e) {
        return e;
      }
    })() as EcpError;
    expect(err).toBeInstanceOf(EcpError);
    expect(err.code).toBe('config_invalid');
    expect(err.message).toMatch(/ECP_STORE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() =>
      openPlaneStores({ dataDir: dir, archiveDir: dir, env: { ECP_STORE_URL: 'postgres://db/ecp', ECP_ARCHIVE_DIR: '/x' } }),
    ).toThrow(/ECP_ARCHIVE_DIR and ECP_STORE_URL are both set/);
  });

  it('an unreachable store is a connection error naming the store, not a crash', async () => {
    const store = new PostgresStore('postgres://nobody:pw@127.0.0.1:1/none');
    const err = await store.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EcpError);
    expect((err as EcpError).code).toBe('connection');
    expect((err as EcpError).message).toMatch(/store postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none is not reachable/);
    await store.close();
  });
});
