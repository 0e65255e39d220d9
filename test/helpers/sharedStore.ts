/**
 * Checks shared by the tests of several workers on one shared PostgreSQL store (ECP_STORE_URL): on the dev server
 * (test/audit/sharedStore.test.ts) and on the cluster (test/cluster/sharedStore.test.ts).
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { Archive } from '../../audit/archive/archive';
import { PostgresStore } from '../../audit/store/postgres';
import type { CommandRun } from './cli';

/** Runs the real `ecp` with these arguments and extra environment. */
export type EcpRun = (args: string[], env: Record<string, string>) => Promise<CommandRun>;

/** Waits until the shared archive at `url` holds every attempt of `ids` (the archiver passes every second). */
export async function waitForArchived(url: string, ids: string[], timeoutMs = 60_000): Promise<void> {
  const store = new PostgresStore(url);
  try {
    await expect
      .poll(async () => new Set((await new Archive(store).entries()).map((e) => e.attemptId)), { timeout: timeoutMs, interval: 500 })
      .toSatisfy((sealed: Set<string>) => ids.every((id) => sealed.has(id)));
  } finally {
    await store.close();
  }
}

/**
 * From one side's data dir (`env` names it and the store): `ecp audit export` of each attempt into that dir, then one
 * `ecp audit verify` of all the packs, which must PASS each. Returns the pack files.
 */
export async function exportAndVerify(ecp: EcpRun, dataDir: string, ids: string[], env: Record<string, string>): Promise<string[]> {
  const files: string[] = [];
  for (const id of ids) {
    const file = join(dataDir, `${id}.pack.json`);
    const exported = await ecp(['audit', 'export', id, '-o', file], env);
    expect(exported.code, `export of ${id} from ${dataDir}: ${exported.stderr}`).toBe(0);
    files.push(file);
  }
  const verified = await ecp(['audit', 'verify', ...files, '--json'], env);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  expect((JSON.parse(verified.stdout) as Array<{ verdict: string }>).map((r) => r.verdict)).toEqual(ids.map(() => 'PASS'));
  return files;
}

/** `ecp audit verify --archive` (the plane's archive: the shared store) must PASS; returns its result. */
export async function verifyArchiveFrom(ecp: EcpRun, env: Record<string, string>) {
  const run = await ecp(['audit', 'verify', '--archive', '--json'], env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const result = JSON.parse(run.stdout) as { verdict: string; entries: number; problems: unknown[]; location: string };
  expect(result).toMatchObject({ verdict: 'PASS', problems: [] });
  return result;
}

/** The shared archive's entries, checked to be one chain: positions 1…n with no gap or fork. */
export async function archiveEntries(url: string) {
  const store = new PostgresStore(url);
  try {
    const entries = await new Archive(store).entries();
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    return entries;
  } finally {
    await store.close();
  }
}
