/**
 * The production worker: `npm run worker -- --config path/to/ecp.yaml` (or ECP_CONFIG). Connects to TEMPORAL_ADDRESS.
 * Without it the worker refuses to start — a production worker must never quietly run a private dev server — unless
 * the embedded dev server is asked for explicitly (`--embedded` or ECP_EMBEDDED_SERVER=1). Exits non-zero, naming
 * file and reason, on an invalid configuration.
 */
import { parseArgs } from 'node:util';
import { EcpError } from '../common';
import { dataDirFromEnv } from '../config/dataDir';
import { runPlane } from './plane-process';
import { workflowStackTracesFromEnv } from './workflowThreads';
import { portFromEnv } from '../config/ports';
import { consolePortFromEnv, startConsole } from '../api/server';
import { createLogger, lineLogger } from '../telemetry/logger';
import { metricsSettingsFromEnv } from '../telemetry/server';

const usage = (message: string): never => {
  console.error(`ecp worker: ${message}`);
  process.exit(2);
};

let values: { config?: string; embedded?: boolean };
try {
  ({ values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, embedded: { type: 'boolean' } } }));
} catch (err) {
  usage(`${(err as Error).message}; usage: npm run worker -- --config <ecp.yaml> [--embedded]`);
}
const configPath = values!.config ?? process.env.ECP_CONFIG;
if (!configPath) usage('no configuration; pass --config <ecp.yaml> or set ECP_CONFIG');
const embeddedEnv = process.env.ECP_EMBEDDED_SERVER?.trim();
if (embeddedEnv && embeddedEnv !== '1' && embeddedEnv !== '0') usage(`ECP_EMBEDDED_SERVER "${embeddedEnv}" must be 1 or 0`);
const embedded = values!.embedded === true || embeddedEnv === '1';
try {
  workflowStackTracesFromEnv(); // a bad value is refused before anything starts, not when the worker is created
} catch (err) {
  usage((err as Error).message);
}
if (!process.env.TEMPORAL_ADDRESS && !embedded) {
  usage(
    'no Temporal server; set TEMPORAL_ADDRESS=host:port (your cluster or Temporal Cloud). ' +
      'For a local dev server inside this worker, ask for it: --embedded or ECP_EMBEDDED_SERVER=1 (npm start does this for you).',
  );
}
try {
  // Structured logs: JSON lines unless stdout is a terminal (ECP_LOG_FORMAT overrides); docs/observability.md.
  const logger = createLogger('ecp');
  const log = lineLogger(logger);
  const plane = await runPlane({
    configPath: configPath!,
    dataDir: dataDirFromEnv(),
    embedded: embedded ? { port: portFromEnv('ECP_TEMPORAL_PORT', 7233) } : undefined,
    log,
    logger,
    // Opt-in on the production worker: ECP_METRICS_PORT (and ECP_METRICS_HOST) serve /metrics, /healthz, /readyz.
    metrics: metricsSettingsFromEnv(process.env, null),
  });
  log(`ECP worker running on task queue "ecp" at ${plane.address} (namespace ${plane.namespace}); Ctrl-C stops it`);
  // The web console, only when asked for (ECP_CONSOLE_PORT); the worker stays headless by default.
  const consolePort = consolePortFromEnv(process.env, null);
  const webConsole =
    consolePort === null
      ? undefined
      : await startConsole({
          port: consolePort,
          address: plane.address,
          namespace: plane.namespace,
          config: () => plane.runtime.config,
          log,
        });
  if (webConsole) log(`ECP web console on ${webConsole.url} (ECP_CONSOLE_HOST sets the interface)`);
  const stop = () => void (webConsole?.close() ?? Promise.resolve()).then(() => plane.shutdown()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await plane.done;
} catch (err) {
  console.error(err instanceof EcpError ? `ecp worker: ${err.message}` : err);
  process.exit(1);
}
