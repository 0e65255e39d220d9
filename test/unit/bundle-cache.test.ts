import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import { BUNDLE_CACHE_DIR, bundleCache, workflowCodeDigest } from '../../workflows/bundle';

// webpack's persistent cache (workflows/bundle.ts `bundleCache`) may only ever save time: a bundle built from it is
// byte for byte the cold build of the same sources, before and after any edit, even one that keeps size and mtime.

const name = `test-${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'ecp-bundle-cache-'));
const helper = join(dir, 'greeting.ts');
symlinkSync(resolve(import.meta.dirname, '..', '..', 'node_modules'), join(dir, 'node_modules'), 'dir');
writeFileSync(
  join(dir, 'workflows.ts'),
  `import { greeting } from './greeting';\nexport async function greet(): Promise<string> {\n  return greeting;\n}\n`,
);
writeFileSync(helper, `export const greeting = 'one';\n`);

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
async function bundle(cached: boolean): Promise<{ code: string; digest: string }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(dir, 'workflows.ts'),
    logger: quiet,
    webpackConfigHook: (config) => ({ ...config, ...(cached ? bundleCache(name) : { cache: false }) }),
  });
  return { code, digest: workflowCodeDigest({ code }) };
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(BUNDLE_CACHE_DIR, name), { recursive: true, force: true });
});

describe('the workflow bundle cache', () => {
  it('is kept across bundles and never changes what is bundled, before or after an edit', async () => {
    const first = await bundle(true);
    expect(existsSync(join(BUNDLE_CACHE_DIR, name))).toBe(true);
    const warm = await bundle(true);
    expect(warm.digest).toBe(first.digest);
    expect((await bundle(false)).digest).toBe(first.digest);

    // The same size and the same modification time: only the content tells the edit apart.
    const { atime, mtime } = statSync(helper);
    writeFileSync(helper, `export const greeting = 'two';\n`);
    utimesSync(helper, atime, mtime);
    const edited = await bundle(true);
    expect(edited.code).toContain("'two'");
    expect(edited.digest).not.toBe(first.digest);
    expect(edited.digest).toBe((await bundle(false)).digest);
  }, 120_000);

  it('is skipped where its folder cannot be made or written', () => {
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    expect(bundleCache(name, {}, join(blocker, 'webpack'))).toEqual({ cache: false });
    expect(bundleCache(name, {}, join(dir, 'cache')).cache).toMatchObject({ type: 'filesystem', cacheDirectory: join(dir, 'cache') });
  });

  it('ECP_BUNDLE_CACHE=0 turns it off; any value but 0 or 1 is refused, naming the variable', () => {
    expect(bundleCache(name, { ECP_BUNDLE_CACHE: '0' })).toEqual({ cache: false });
    expect(bundleCache(name, { ECP_BUNDLE_CACHE: '1' })).toEqual(bundleCache(name, {}));
    expect(() => bundleCache(name, { ECP_BUNDLE_CACHE: 'off' })).toThrow(EcpError);
    expect(() => bundleCache(name, { ECP_BUNDLE_CACHE: 'off' })).toThrow(/ECP_BUNDLE_CACHE must be 0 or 1, got "off"/);
  });
});
