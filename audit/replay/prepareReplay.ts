/**
 * Entry point of a process that builds and keeps the replay bundle (and finds the plane's kept one, for the local code
 * digest) so that the first `ecp audit verify` on this machine reuses them instead of bundling (workflows/bundle.ts
 * `keptWorkflowBundle`). `npm start` runs it once in the background, at the lowest CPU priority, after the plane is
 * up (worker/replayPreparation.ts). Idempotent: with both bundles kept and unchanged it only checks them (≈ 0.2 s;
 * the process, loading its modules, ≈ 2 s of CPU).
 * Exits 0 when both are kept, 1 with the reason on standard error otherwise.
 */
import { warmUpReplay } from './replay';

try {
  await warmUpReplay();
  process.exit(0);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
