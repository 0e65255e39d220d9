import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Regression test for the worker crash under load ("Fatal error … unreachable code" in V8's deoptimiser).
 * The fixture runs in its own process because the failure is an abort of the whole process.
 */
const fixture = fileURLToPath(new URL('./fixtures/cedarDeoptStress.ts', import.meta.url));
const run = (which: 'engine' | 'raw') =>
  spawnSync(process.execPath, ['--import', 'tsx', fixture, which], { encoding: 'utf8', timeout: 90_000 });
const v8Major = Number(process.versions.v8.split('.')[0]);

describe('policy/cedarEngine', () => {
  it('survives a lazy deoptimisation in the middle of a Cedar call', { timeout: 120_000 }, () => {
    const result = run('engine');
    expect(result.stderr).not.toContain('Fatal error');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ allowed: 24_000, reads: 24_000 });
  });

  // The control: the same load through the package directly aborts on the V8 that ships with Node 20, which shows
  // that the fixture really reaches the bug (newer V8 fixed it, so there the control proves nothing and is skipped).
  it.runIf(v8Major <= 11)('the same load without the engine module aborts Node 20 (control)', { timeout: 120_000 }, () => {
    const result = run('raw');
    expect(result.stderr).toContain('unreachable code');
    expect(result.stderr).toContain('DoComputeBuiltinContinuation');
  });
});
