import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareReplayInBackground } from '../../worker/replayPreparation';
import { eventually } from '../helpers/eventually';
import { scratchDir } from '../helpers/scratchDir';

// Stand-in entries for the child process: what they print tells what the child was given.
const dir = scratchDir('ecp-replay-preparation');
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

/** Starts the preparation with a stand-in child that records its PID and waits; resolves with it once it runs. */
async function startSlowChild(name: string, log: (line: string) => void) {
  const pidFile = join(dir, `pid-${name}`);
  const slow = entry(
    `slow-${name}.mjs`,
    `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => {}, 60_000);`,
  );
  const preparation = prepareReplayInBackground(log, slow);
  await eventually(
    'the child to start',
    async () => (existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '') || undefined,
    15_000,
    50,
  );
  return { preparation, pid: Number(readFileSync(pidFile, 'utf8')) };
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
    const { preparation, pid } = await startSlowChild('stop', out.log);
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
      const { pid } = await startSlowChild(signal, out.log);
      process.kill(pid, signal);
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
