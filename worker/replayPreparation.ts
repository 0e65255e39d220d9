import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { keptBundlesDir } from '../workflows/bundle';

const ENTRY = fileURLToPath(new URL('../audit/replay/prepareReplay.ts', import.meta.url));
/** The last standard-error text of a failed preparation that is worth a log line. */
const STDERR_KEPT = 2_000;

/** A background preparation; `stop` ends it (if still running) without a log line. */
export interface ReplayPreparation {
  stop(): void;
}

/**
 * Builds the replay bundle ahead of the first `ecp audit verify` (bundling costs seconds of CPU, cold ≈ 10 s), in a
 * child process at the lowest CPU priority so the plane stays responsive while it runs. Only where finished bundles
 * are kept (`ECP_BUNDLE_CACHE`, workflows/bundle.ts): otherwise nothing would outlive the child. A failure costs
 * nothing but the time saved: it is logged, and verification bundles on first use as before. Not retried. `entry`:
 * the script the child runs (tests give their own).
 */
export function prepareReplayInBackground(log: (line: string) => void, entry = ENTRY): ReplayPreparation {
  if (keptBundlesDir() === undefined) return { stop() {} };
  let stopped = false;
  let stderr = '';
  // The same Node flags as this process (tsx's loader among them), so the entry runs as TypeScript.
  const child = spawn(process.execPath, [...process.execArgv, entry], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  child.on('spawn', () => {
    try {
      if (child.pid !== undefined) setPriority(child.pid, constants.priority.PRIORITY_LOW);
    } catch {
      // Not allowed here: it runs at normal priority, which only makes it finish sooner.
    }
  });
  let reported = false;
  const failed = (why: string) => {
    if (stopped || reported) return; // a child that cannot start may report both 'error' and 'close'
    reported = true;
    log(`replay bundle not prepared (${why}); \`ecp audit verify\` bundles on first use`);
  };
  child.on('error', (err) => failed(err.message));
  // 'close', not 'exit': it comes after standard error is read to the end, so the reason is complete.
  child.on('close', (code, signal) => {
    // Ctrl-C at a terminal reaches the child too (it is in the plane's process group): a stop, not a failure.
    if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') return;
    const detail = stderr.trim().split('\n').filter(Boolean).at(-1);
    failed(signal ? `stopped by ${signal}` : `exit ${code}${detail ? `: ${detail}` : ''}`);
  });
  // Neither the child nor its pipe keeps the plane's process alive.
  child.unref();
  (child.stderr as Socket | null)?.unref();
  return {
    stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}
