import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artifacts', 'reliability');

/** One row of the README's "Reliability and security" table, as measured by a real run. */
export interface ReliabilityRow {
  fault: string;
  tried: number;
  survived: number;
  lost: number;
  duplicatedEffects: number;
  [detail: string]: unknown;
}

/** Writes a suite's figures to `test-artifacts/reliability/<suite>.json` (the README table is built from these). */
export function writeReliability(suite: string, figures: Record<string, unknown>): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${suite}.json`);
  writeFileSync(file, `${JSON.stringify({ suite, measuredAt: new Date().toISOString(), ...figures }, null, 2)}\n`);
  return file;
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}
