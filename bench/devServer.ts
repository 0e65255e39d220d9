/**
 * A `temporal server start-dev` of a bench script's own, on a free loopback port, with the flags under test. For the
 * scripts that run plain Temporal workers and clients (bench/stall.ts, bench/listing.ts); the main bench starts its
 * server through bench/env.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../test/helpers/temporalServers';
import { ensureTemporalTool, TEMPORAL_TOOLS } from '../worker/temporalCli';

export interface BenchDevServer {
  address: string;
  /** The flags it was started with, beside address and port. */
  args: string[];
  /** The server's process (its CPU is the server's: the dev server is one process). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts the dev server with `flags` (in memory, or on a SQLite file in a temporary folder with `file`) and waits until it answers. */
export async function startBenchDevServer(flags: string[], { file = false }: { file?: boolean } = {}): Promise<BenchDevServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-bench-server-'));
  const cli = ensureTemporalTool(TEMPORAL_TOOLS.cli, { log: (line) => console.log(line) });
  const port = await freePort();
  const args = file ? [...flags, '--db-filename', join(dir, 'temporal.db')] : flags;
  const child: ChildProcess = spawn(
    cli,
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error', ...args],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const address = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const c = await Connection.connect({ address, connectTimeout: 1000 });
      await c.close();
      break;
    } catch (err) {
      if (i > 60 || child.exitCode !== null) {
        child.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    args,
    pid: child.pid!,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
