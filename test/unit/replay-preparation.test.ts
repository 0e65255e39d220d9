import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareReplayInBackground } from '../../worker/replayPreparation';
import { eventually } from '../helpers/eventually';

// Stand-in entries for the child process: what they print tells what the child was given.
const dir = mkdtempSync(join(tmpdir(), 'ecp-replay-preparation-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function entry(name: string, code: string): string {
  const path = join(dir, name);
  writeFileSync(path, code);
  return path;
}

/** A log that keeps its lines. */
function collect() {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
}

describe('npm start prepares the replay bundle in the background (worker/replayPreparation.ts)', () => {
  it('runs the child at the lowest CPU priority and logs a failure with its reason', async () => {
    const out = collect();
    const failing = entry(
      'fails.mjs',
      "import { getPriority } from 'node:os'; console.error(`priority ${getPriority()}`); process.exit(3);",
    );
    prepareReplayInBackground(out.log, failing);
    await eventually('a log line', async () => out.lines.length > 0 || undefined, 15_000, 50);
    expect(out.lines).toEqual(['replay bundle not prepared (exit 3: priority 19); `ecp audit verify` bundles on first use']);
  });

  it('is silent when the child succeeds', async () => {
    const out = collect();
    const marker = join(dir, 'ran');
    const ok = entry('ok.mjs', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x');`);
    prepareReplayInBackground(out.log, ok);
    await eventually('the child to run', async () => existsSync(marker) || undefined, 15_000, 50);
    await new Promise((resolve) => setTimeout(resolve, 300)); // its exit would have been logged by now
    expect(out.lines).toEqual([]);
  });

  it('stop() ends a running child without a log line', async () => {
    const out = collect();
    const pidFile = join(dir, 'pid');
    const slow = entry(
      'slow.mjs',
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60_000);`,
    );
    const preparation = prepareReplayInBackground(out.log, slow);
    await eventually(
      'the child to start',
      async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '') || undefined,
      15_000,
      50,
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    preparation.stop();
    await eventually(
      'the child to end',
      async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      },
      15_000,
      50,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(out.lines).toEqual([]);
  });

  it('takes Ctrl-C reaching the child (SIGINT) as a stop, and any other signal as a failure', async () => {
    for (const [signal, expected] of [
      ['SIGINT', []],
      ['SIGKILL', ['replay bundle not prepared (stopped by SIGKILL); `ecp audit verify` bundles on first use']],
    ] as const) {
      const out = collect();
      const pidFile = join(dir, `pid-${signal}`);
      const slow = entry(
        `slow-${signal}.mjs`,
        `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60_000);`,
      );
      prepareReplayInBackground(out.log, slow);
      await eventually(
        'the child to start',
        async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '') || undefined,
        15_000,
        50,
      );
      process.kill(Number(readFileSync(pidFile, 'utf8')), signal);
      if (expected.length > 0) await eventually('a log line', async () => out.lines.length > 0 || undefined, 15_000, 50);
      else await new Promise((resolve) => setTimeout(resolve, 500));
      expect(out.lines).toEqual(expected);
    }
  });

  it('does nothing where finished bundles are not kept (ECP_BUNDLE_CACHE=0)', async () => {
    const out = collect();
    const marker = join(dir, 'should-not-run');
    const before = process.env.ECP_BUNDLE_CACHE;
    process.env.ECP_BUNDLE_CACHE = '0';
    try {
      prepareReplayInBackground(
        out.log,
        entry('marker.mjs', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x');`),
      );
    } finally {
      if (before === undefined) delete process.env.ECP_BUNDLE_CACHE;
      else process.env.ECP_BUNDLE_CACHE = before;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(existsSync(marker)).toBe(false);
    expect(out.lines).toEqual([]);
  });
});
