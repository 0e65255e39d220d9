import { createServer } from 'node:net';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../telemetry/logger';

let installed: boolean | undefined;

/**
 * Installs the Temporal SDK runtime once per process: its log lines at ECP_LOG_LEVEL (default WARN: the SDK logs every
 * worker state change at INFO; the plane's own lines say what matters), through `logger` when given, and — when
 * `coreMetricsPort` is set — its Prometheus exporter on 127.0.0.1:`coreMetricsPort`, which the plane's /metrics
 * bridges (see {@link scrapeCoreMetrics}). Returns whether the SDK's metrics are exported. When the embedding
 * application installed a runtime first, its settings stay and the SDK's metrics are not served here.
 */
export function installPlaneRuntime(options: { logger?: Logger; coreMetricsPort: number | null }): boolean {
  if (installed !== undefined) return installed;
  const level = (process.env.ECP_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'WARN';
  const sdk = options.logger?.child({ component: 'temporal-sdk' });
  const logger = sdk
    ? new DefaultLogger(level, ({ level: l, message, meta }) => {
        const method = l === 'ERROR' ? 'error' : l === 'WARN' ? 'warn' : l === 'INFO' ? 'info' : l === 'DEBUG' ? 'debug' : 'trace';
        // pino serialises errors under `err` only (message, type, stack); the SDK passes them as `error`.
        const { error, ...rest } = (meta ?? {}) as { error?: unknown };
        sdk[method](error instanceof Error ? { ...rest, err: error } : (meta ?? {}), message);
      })
    : new DefaultLogger(level);
  try {
    Runtime.install({
      logger,
      ...(options.coreMetricsPort
        ? {
            telemetryOptions: {
              metrics: { prometheus: { bindAddress: `127.0.0.1:${options.coreMetricsPort}`, countersTotalSuffix: true } },
            },
          }
        : {}),
    });
    installed = options.coreMetricsPort !== null;
  } catch {
    // Already installed by the embedding application: keep its runtime.
    installed = false;
  }
  return installed;
}

/** The SDK runtime's Prometheus text from its loopback exporter; empty (never an error) when it does not answer. */
export async function scrapeCoreMetrics(port: number): Promise<string> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : '';
  } catch {
    return '';
  }
}

/** A free TCP port on loopback (for the SDK's internal exporter, never exposed beyond 127.0.0.1). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
