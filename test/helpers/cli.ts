import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { AttemptRecord } from '../../common';
import { eventually } from './eventually';
import type { TestPlane } from './plane';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ECP_BIN = join(ROOT, 'bin', 'ecp.mjs');

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Variables of this process's environment the command must not inherit. */
  unset?: string[];
  timeoutMs?: number;
}

/** Runs a command to completion and keeps its exit code and output; never rejects. */
export function runCommand(file: string, args: string[], options: CommandOptions = {}): Promise<CommandRun> {
  const base = { ...process.env };
  for (const name of options.unset ?? []) delete base[name];
  return new Promise((done) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd ?? ROOT,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...base, NO_COLOR: '1', ...options.env },
      },
      (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

/** The environment that points the `ecp` CLI at a test plane. */
export const planeCliEnv = (plane: TestPlane): Record<string, string> => ({
  TEMPORAL_ADDRESS: plane.address,
  ECP_DATA_DIR: plane.dataDir,
  ECP_CONFIG: plane.configPath,
});

/** Runs the real `ecp` binary against a test plane. */
export function runEcp(plane: TestPlane, args: string[], options: CommandOptions = {}): Promise<CommandRun> {
  return runCommand(process.execPath, [ECP_BIN, ...args], { ...options, env: { ...planeCliEnv(plane), ...options.env } });
}

/**
 * `ecp show --json` and polling for a status, through a test's own way of running the CLI (its environment).
 * The show must exit 0.
 */
export function cliRecords(ecp: (...args: string[]) => Promise<CommandRun>) {
  const showJson = async (attemptId: string): Promise<AttemptRecord> => {
    const r = await ecp('show', attemptId, '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as AttemptRecord;
  };
  const untilStatus = (attemptId: string, status: string) =>
    eventually(`${attemptId} to reach ${status}`, async () => {
      const record = await showJson(attemptId);
      return record.status === status ? record : undefined;
    });
  return { showJson, untilStatus };
}

/** `ecp propose` arguments for a refund by refund-bot, as the README writes them (add `--idempotency-key`, `--json` …). */
export function refundProposeArgs(refund: { order: string; amount: number | string; reason: string; justification: string }): string[] {
  return [
    'propose',
    '--agent',
    'refund-bot',
    '--action',
    'payments.refund',
    '--resource',
    refund.order,
    '--params',
    JSON.stringify({ orderId: refund.order, amount: refund.amount, reason: refund.reason }),
    '--justification',
    refund.justification,
  ];
}
