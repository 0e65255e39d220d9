/**
 * The production worker: `npm run worker -- --config path/to/ecp.yaml` (or ECP_CONFIG). Connects to TEMPORAL_ADDRESS
 * when set, else runs the embedded dev server. Exits non-zero, naming file and reason, on an invalid configuration.
 */
import { parseArgs } from 'node:util';
import { EcpError } from '../common';
import { dataDirFromEnv } from './options';
import { runPlane } from './plane-process';
import { consolePortFromEnv, startConsole } from '../api/server';

const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
const configPath = values.config ?? process.env.ECP_CONFIG;
if (!configPath) {
  console.error('ecp worker: no configuration; pass --config <ecp.yaml> or set ECP_CONFIG');
  process.exit(2);
}
try {
  const plane = await runPlane({ configPath, dataDir: dataDirFromEnv(), embedded: { port: Number(process.env.ECP_TEMPORAL_PORT ?? 7233) } });
  console.log(`ECP worker running on task queue "ecp" at ${plane.address} (namespace ${plane.namespace}); Ctrl-C stops it`);
  // The web console, only when asked for (ECP_CONSOLE_PORT); the worker stays headless by default.
  const consolePort = consolePortFromEnv(process.env, null);
  const webConsole = consolePort === null ? undefined : await startConsole({ port: consolePort, address: plane.address, namespace: plane.namespace, config: () => plane.runtime.config });
  if (webConsole) console.log(`ECP web console on ${webConsole.url} (ECP_CONSOLE_HOST sets the interface)`);
  const stop = () => void (webConsole?.close() ?? Promise.resolve()).then(() => plane.shutdown()).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await plane.done;
} catch (err) {
  console.error(err instanceof EcpError ? `ecp worker: ${err.message}` : err);
  process.exit(1);
}
