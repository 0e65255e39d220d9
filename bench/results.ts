import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine';
import type { PolicyFigures, PolicyProfile } from './policy/measure';
import type { DecisionFigures } from './scenarios/decision';
import type { McpBenchResult } from './scenarios/mcp';
import type { NotificationsResult } from './scenarios/notifications';
import type { OpenLoopResult } from './scenarios/openLoop';
import type { OverheadResult } from './scenarios/overhead';
import type { PendingResult } from './scenarios/pending';
import type { VerifyFigures } from './scenarios/verify';

export const SCENARIOS = ['overhead', 'openloop', 'mcp', 'decision', 'notifications', 'pending', 'policy', 'verify'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ModeResults {
  mode: 'memory' | 'file' | 'cluster';
  sqlitePragmasPassed: string[];
  /** File mode: the SQLite file's settings after the run. */
  sqliteFile?: Record<string, string> | { error: string };
  /** Dev server: the dynamic-config tuning it ran with (worker/devServerTuning.ts; empty with ECP_DEV_SERVER_TUNING=0). */
  devServerTuning?: string[];
  overhead?: OverheadResult;
  openLoop?: OpenLoopResult;
  mcp?: McpBenchResult;
  decision?: DecisionFigures;
  notifications?: NotificationsResult;
  pending?: PendingResult;
  errors: string[];
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  quick: boolean;
  argv: string[];
  machine: MachineInfo;
  settings: {
    maxCachedWorkflows: number;
    reuseV8Context: boolean | null;
    maxOldSpaceMiB: number | null;
    pendingAttempts: number;
    latencyRuns: number;
    concurrencies: number[];
  };
  modes: ModeResults[];
  policy?: { description: string; figures: PolicyFigures[]; profile: PolicyProfile };
  verify?: VerifyFigures | { skipped: string };
  errors: string[];
}

/**
 * Writes a bench script's results as `<prefix>-<startedAt>.{json,md}` and `<prefix>-latest.{json,md}` in `dir`
 * (bench:cli, bench:listing).
 */
export function writeScriptResults(dir: string, prefix: string, startedAt: string, results: unknown, md: string): void {
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.replace(/[:.]/g, '-');
  for (const name of [`${prefix}-${stamp}`, `${prefix}-latest`]) {
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(dir, `${name}.md`), md);
  }
}
