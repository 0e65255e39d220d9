import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ECP_BIN, ROOT } from '../helpers/cli';

/** Runs `ecp <args>` with stdout read by someone who stops early; returns the exit code and stderr. */
async function runWithEarlyClose(args: string[], closeAt: 'first-chunk' | 'at-once'): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ECP_BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // `| head -1`: read the first line, then close the pipe while the CLI may still be writing.
  if (closeAt === 'at-once') child.stdout.destroy();
  else child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr };
}

describe('the CLI when its reader stops early (ecp --help | head -1)', () => {
  it('exits 0 without a stack trace, every time', async () => {
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await runWithEarlyClose(['--help'], i % 2 === 0 ? 'at-once' : 'first-chunk'));
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/EPIPE|node:events|at .+:\d+:\d+/);
      expect(run.code).toBe(0);
    }
  });
});
