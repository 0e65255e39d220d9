import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import { bundleKey, keptBundlesDir, workflowCodeDigest } from '../../workflows/bundle';
import { bundleWithKeptOutput } from '../../workflows/bundleOutputs';

// A kept bundle (workflows/bundleOutputs.ts) may only ever save time: whenever anything it was built from changes —
// a file's content (even at the same size and time), a file appearing where webpack looked and found none, the
// bundler's configuration — the bundle is built again, and what is returned is always the cold build's code.

const dir = mkdtempSync(join(tmpdir(), 'ecp-kept-bundles-'));
const keepDir = join(dir, 'kept');
const helper = join(dir, 'greeting.ts');
symlinkSync(resolve(import.meta.dirname, '..', '..', 'node_modules'), join(dir, 'node_modules'), 'dir');
const longAgo = new Date(Date.now() - 3_600_000);
/** Writes a fixture file dated an hour ago (a file changed just before a build is not kept; see the last test). */
function writeOld(path: string, text: string): void {
  writeFileSync(path, text);
  utimesSync(path, longAgo, longAgo);
}
writeOld(
  join(dir, 'workflows.ts'),
  `import { greeting } from './greeting';\nexport async function greet(): Promise<string> {\n  return greeting;\n}\n`,
);
writeOld(helper, `export const greeting = 'one';\n`);

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
const options = { workflowsPath: join(dir, 'workflows.ts'), logger: quiet };
const cold = async () => workflowCodeDigest(await bundleWorkflowCode({ ...options, webpackConfigHook: (c) => ({ ...c, cache: false }) }));
async function build(key = 'k1') {
  const { bundle, reused } = await bundleWithKeptOutput(options, { dir: keepDir, name: 'fixture', key });
  return { reused, code: bundle.code, digest: workflowCodeDigest(bundle) };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kept workflow bundles', () => {
  it('are reused while nothing they were built from changed, and rebuilt as the cold build when anything did', async () => {
    const first = await build();
    expect(first.reused).toBe(false);
    expect(first.digest).toBe(await cold());
    const again = await build();
    expect(again).toEqual({ ...first, reused: true });

    // The same size and the same modification time: only the content tells the edit apart.
    const { atime, mtime } = statSync(helper);
    writeFileSync(helper, `export const greeting = 'two';\n`);
    utimesSync(helper, atime, mtime);
    const edited = await build();
    expect(edited.reused).toBe(false);
    expect(edited.code).toContain("'two'");
    expect(edited.digest).toBe(await cold());
    expect((await build()).reused).toBe(true);

    // A file where webpack looked first and found nothing now resolves `./greeting` instead of greeting.ts.
    writeOld(join(dir, 'greeting'), `export const greeting = 'three';\n`);
    const shadowed = await build();
    expect(shadowed.reused).toBe(false);
    expect(shadowed.code).toContain("'three'");
    expect(shadowed.digest).toBe(await cold());
    rmSync(join(dir, 'greeting'));

    // Another configuration (the key) builds anew; so does a kept code file that no longer matches its manifest.
    expect((await build()).reused).toBe(false);
    expect((await build()).reused).toBe(true);
    expect((await build('k2')).reused).toBe(false);
    writeFileSync(join(keepDir, 'fixture.js'), readFileSync(join(keepDir, 'fixture.js'), 'utf8').replace("'two'", "'six'"));
    const repaired = await build('k2');
    expect(repaired.reused).toBe(false);
    expect(repaired.code).toContain("'two'");
    expect(repaired.digest).toBe(edited.digest);
  }, 120_000);

  it('are not kept when an input changed just before the build (webpack may have read the older content)', async () => {
    writeFileSync(helper, `export const greeting = 'four';\n`);
    const built = await build('k3');
    expect(built.code).toContain("'four'");
    expect((await build('k3')).reused).toBe(false);
    utimesSync(helper, longAgo, longAgo);
    await build('k3');
    expect((await build('k3')).reused).toBe(true);
  }, 120_000);

  it('are not kept when webpack depended on a whole folder (its tree is not recorded)', async () => {
    const parts = join(dir, 'parts');
    mkdirSync(parts);
    writeOld(join(parts, 'a.js'), `export const part = 'a';\n`);
    // A require with an expression makes webpack depend on the folder as a whole (a context dependency).
    const entry = join(dir, 'byName.js');
    writeOld(entry, `export async function part(name) {\n  return require('./parts/' + name + '.js').part;\n}\n`);
    const keepByName = { dir: keepDir, name: 'by-name', key: 'k' };
    const first = await bundleWithKeptOutput({ workflowsPath: entry, logger: quiet }, keepByName);
    expect(first.bundle.code).toContain("'a'");
    expect((await bundleWithKeptOutput({ workflowsPath: entry, logger: quiet }, keepByName)).reused).toBe(false);
    expect(existsSync(join(keepDir, 'by-name.json'))).toBe(false);
  }, 120_000);

  it('have a key that follows the bundle options and the configuration code', () => {
    const config = join(dir, 'config.ts');
    writeFileSync(config, 'export const a = 1;\n');
    const key = bundleKey(options, [config]);
    expect(bundleKey(options, [config])).toBe(key);
    expect(bundleKey({ ...options, preloadModules: ['zod'] }, [config])).not.toBe(key);
    writeFileSync(config, 'export const a = 2;\n');
    expect(bundleKey(options, [config])).not.toBe(key);
  });

  it('are off with ECP_BUNDLE_CACHE=0 and where their folder cannot be written; other values are refused', () => {
    expect(keptBundlesDir({ ECP_BUNDLE_CACHE: '0' }, keepDir)).toBeUndefined();
    expect(keptBundlesDir({}, keepDir)).toBe(keepDir);
    const blocker = join(dir, 'not-a-folder');
    writeFileSync(blocker, '');
    expect(keptBundlesDir({}, join(blocker, 'bundles'))).toBeUndefined();
    expect(() => keptBundlesDir({ ECP_BUNDLE_CACHE: 'off' }, keepDir)).toThrow(EcpError);
    expect(existsSync(keepDir)).toBe(true);
  });
});
