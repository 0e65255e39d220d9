/**
 * `npm run cluster` — a Temporal cluster on PostgreSQL on this machine, the production shape of docker-compose.yml:
 *
 *   --dir <path>      run directory (default <tmp>/ecp-cluster; its database survives restarts)
 *   --port <n>        frontend port on 127.0.0.1 (default ECP_CLUSTER_PORT or 7233)
 *   --history <n>     history processes sharing the shards (default 2)
 *   --fresh           delete the run directory first (a new, empty database)
 *
 * Prints TEMPORAL_ADDRESS for `npm start` / `npm run worker`; Ctrl-C stops every process it started.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EcpError } from '../../common';
import { portFromEnv } from '../../config/ports';
import { startCluster } from './cluster';
import { CLUSTER } from './settings';

function fail(message: string): never {
  console.error(`ecp cluster: ${message}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    port: { type: 'string' },
    history: { type: 'string' },
    fresh: { type: 'boolean', default: false },
  },
});
const whole = (name: string, v: string | undefined, fallback: number, min: number, max: number) => {
  if (v === undefined) return fallback;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) fail(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
  return Number(v);
};
const dir = resolve(values.dir ?? join(tmpdir(), 'ecp-cluster'));
const port = whole('port', values.port, portFromEnv('ECP_CLUSTER_PORT', 7233), 1, 65535);
const historyProcesses = whole('history', values.history, 2, 1, CLUSTER.numHistoryShards);
if (values.fresh) rmSync(dir, { recursive: true, force: true });

const log = (line: string) => console.log(`cluster: ${line}`);
try {
  const cluster = await startCluster({ dir, frontendPort: port, historyProcesses, log });
  console.log(
    [
      '',
      `Temporal ${CLUSTER.temporalServerVersion} on PostgreSQL ${CLUSTER.postgresMajor} is running: ${cluster.services().join(', ')}`,
      `  frontend   ${cluster.address}   (namespace ${CLUSTER.namespace}, retention ${CLUSTER.namespaceRetention})`,
      `  PostgreSQL 127.0.0.1:${cluster.postgres.port}   data and logs in ${dir}`,
      '',
      'Use it from another terminal:',
      `  TEMPORAL_ADDRESS=${cluster.address} npm start`,
      `  TEMPORAL_ADDRESS=${cluster.address} npm run worker -- --config path/to/ecp.yaml`,
      '',
      'Ctrl-C stops the cluster (the data stays; --fresh starts empty).',
    ].join('\n'),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping …`);
    cluster.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  if (err instanceof EcpError) fail(err.message);
  throw err;
}
