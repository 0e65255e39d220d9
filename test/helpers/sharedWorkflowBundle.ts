/**
 * The plane's workflow bundle, built once per `vitest run` instead of once per test file. Every Temporal suite file
 * runs in a process of its own, and each bundle costs webpack ≈ 9 s of CPU cold, ≈ 3 s from its persistent cache.
 * The global setup builds it with `prebundleWorkflows()` itself, so each file's plane runs exactly the code it would
 * have bundled (same digest, same build ID); a test that needs different code still bundles its own.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prebundleWorkflows, usePrebuiltWorkflowBundle } from '../../workflows/bundle';

const ENV_VAR = 'ECP_TEST_WORKFLOW_BUNDLE';

/** Global setup: bundles, saves the bundle where the test processes find it, and returns the teardown. */
export async function shareWorkflowBundle(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-test-bundle-'));
  const file = join(dir, 'workflow-bundle.json');
  writeFileSync(file, JSON.stringify(await prebundleWorkflows()));
  process.env[ENV_VAR] = file; // inherited by the test processes, started after global setup
  return () => rmSync(dir, { recursive: true, force: true });
}

/** Setup file, in each test process: `prebundleWorkflows()` returns the shared bundle when the run has one. */
export function useSharedWorkflowBundle(): void {
  const file = process.env[ENV_VAR];
  if (!file) return;
  const bundle = JSON.parse(readFileSync(file, 'utf8')) as { code: unknown; sourceMap: unknown };
  if (typeof bundle.code !== 'string' || typeof bundle.sourceMap !== 'string')
    throw new Error(`${ENV_VAR}: ${file} holds no workflow bundle`);
  usePrebuiltWorkflowBundle({ code: bundle.code, sourceMap: bundle.sourceMap });
}
