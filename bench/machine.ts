import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem, release, platform } from 'node:os';
import * as cedar from '../policy/cedarEngine';
import { findTemporalTool, TEMPORAL_TOOLS } from '../worker/temporalCli';

const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  loadAverageAtStart: number[];
  node: string;
  temporalCli: string;
  temporalSdk: string;
  cedar: string;
}

/** `temporal --version` of the CLI the dev servers run, or 'unknown' while none is installed (the first server installs it). */
export function temporalCliVersion(): string {
  try {
    const cli = findTemporalTool(TEMPORAL_TOOLS.cli);
    if (cli) return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // unknown
  }
  return 'unknown';
}

export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    temporalCli: temporalCliVersion(),
    temporalSdk: versionOf('@temporalio/worker'),
    cedar: cedar.getCedarVersion(),
  };
}

/**
 * The persistent settings of the dev server's SQLite file, read with python3's sqlite3 read-only after the run.
 * Per-connection pragmas (synchronous, busy_timeout) are not stored in the file; the dev server passes none unless
 * `--sqlite-pragma` is given, so those are SQLite's defaults.
 */
export function sqliteFileSettings(dbPath: string): Record<string, string> | { error: string } {
  const script = [
    'import sqlite3, sys, json',
    'c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)',
    'out = {}',
    'for p in ["journal_mode", "page_size", "auto_vacuum", "page_count"]:',
    '    out[p] = str(c.execute("PRAGMA " + p).fetchone()[0])',
    'out["sqlite_version"] = sqlite3.sqlite_version',
    'print(json.dumps(out))',
  ].join('\n');
  try {
    return JSON.parse(execFileSync('python3', ['-c', script, dbPath], { encoding: 'utf8' })) as Record<string, string>;
  } catch (err) {
    return { error: `could not inspect ${dbPath}: ${(err as Error).message.split('\n')[0]}` };
  }
}
