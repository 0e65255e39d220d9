import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchEnv } from '../env';
import { benchDeploy, benchRefund, sleep } from '../load';

export interface VerifyFigures {
  recordsPerSecond: number;
  records: number;
  allPassed: boolean;
  details: unknown;
}

const run = promisify(execFile);
type ExportModule = {
  exportEvidencePack?: (client: BenchEnv['ecp'], attemptId: string, options?: { dataDir?: string }) => Promise<unknown>;
};

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Whether the audit toolkit's measurement (bench/verify.ts) is present; if not, the reason to print. */
export function verifyUnavailable(): string | null {
  if (!existsSync(here('../verify.ts'))) return 'bench/verify.ts (the audit toolkit measurement) does not exist yet';
  if (!existsSync(here('../../audit/pack/export.ts'))) return 'audit/pack/export.ts (evidence-pack export) does not exist yet';
  return null;
}

/**
 * Closed attempts for scenario 5, exported as evidence packs from this run's server: a mix of auto-allowed, denied
 * (over the order total) and two-approver attempts.
 */
export async function exportPacks(env: BenchEnv, count: number): Promise<unknown[]> {
  const { exportEvidencePack } = (await import(here('../../audit/pack/export.ts'))) as ExportModule;
  if (typeof exportEvidencePack !== 'function') throw new Error('audit/pack/export.ts does not export exportEvidencePack');
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) ids.push((await env.ecp.propose(benchRefund(100, 'verify'))).attemptId);
    else if (i % 3 === 1) ids.push((await env.ecp.propose({ ...benchRefund(100, 'verify'), agent: 'deploy-bot' })).attemptId);
    else {
      const { attemptId } = await env.ecp.propose(benchDeploy(100_000 + i));
      while ((await env.ecp.getRecord(attemptId)).status !== 'AWAITING_DECISION') await sleep(10);
      for (const human of ['bob', 'erin']) await env.ecp.decide(attemptId, { human, verdict: 'approve', privateKey: env.key(human) });
      ids.push(attemptId);
    }
  }
  const packs: unknown[] = [];
  for (const id of ids) {
    await env.ecp.awaitOutcome(id);
    // The worker's bundle includes the MCP action types it discovered after this process loaded the config: the
    // exact texts are in the run's bundle store, as for `ecp audit export --data-dir`.
    packs.push(await exportEvidencePack(env.ecp, id, { dataDir: env.dataDir }));
  }
  return packs;
}

/**
 * Scenario 5: records (evidence packs) fully verified per second, replay included, by bench/verify.ts in a child
 * process (a fresh process, like an auditor's; it also keeps a crash there from losing the rest of the results).
 */
export async function runVerify(packs: unknown[]): Promise<VerifyFigures> {
  const { writePack } = (await import(here('../../audit/pack/io.ts'))) as { writePack: (path: string, pack: unknown) => void };
  const dir = mkdtempSync(join(tmpdir(), 'ecp-bench-packs-'));
  let keep = false;
  try {
    const files = packs.map((pack, i) => {
      const file = join(dir, `pack-${i}.json`);
      writePack(file, pack);
      return file;
    });
    // bench/verify.ts exits 1 when a pack fails verification; its figures are still on stdout.
    const stdout = await run(process.execPath, ['--import', 'tsx', here('../verify.ts'), ...files], { maxBuffer: 16 * 2 ** 20 }).then(
      (r) => r.stdout,
      (err: { stdout?: string; message: string }) => {
        if (err.stdout?.includes('packsPerSecond')) return err.stdout;
        throw new Error(`bench/verify.ts failed: ${err.message.split('\n').slice(0, 3).join(' ')}`);
      },
    );
    const last = stdout.trim().split('\n').pop() ?? '';
    const out = JSON.parse(last) as { packsPerSecond: number; packs: number; allPassed: boolean };
    if (typeof out.packsPerSecond !== 'number') throw new Error(`bench/verify.ts printed no packsPerSecond: ${last.slice(0, 200)}`);
    // A pack that fails is evidence of a bug (or of tampering): the packs stay for `ecp audit verify`.
    keep = !out.allPassed;
    if (keep) console.log(`  a pack failed verification; the packs are kept in ${dir}`);
    return { recordsPerSecond: out.packsPerSecond, records: out.packs, allPassed: out.allPassed, details: out };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
