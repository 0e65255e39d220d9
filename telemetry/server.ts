import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EcpError } from '../common/errors';

/** A readiness check: resolves with null when ready, or with why not (shown to whoever asks /readyz). */
export type ReadinessCheck = () => Promise<string | null>;

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The worker's operations endpoint: `GET /metrics` (Prometheus text: `metrics()`), `GET /healthz` (200 while the
 * process serves at all) and `GET /readyz` (200 when every check passes, else 503 naming the failing ones). Anything
 * else is 404. Binds `host:port` (port 0: any free port); a taken port is a clear EcpError naming ECP_METRICS_PORT.
 */
export async function startMetricsServer(options: {
  port: number;
  host: string;
  metrics: () => Promise<string>;
  ready: ReadinessCheck;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') {
      void options.ready().then(
        (problem) =>
          res.writeHead(problem ? 503 : 200, { 'content-type': 'text/plain' }).end(problem ? `not ready: ${problem}\n` : 'ready\n'),
        (err: Error) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${err.message}\n`),
      );
      return;
    }
    if (path === '/metrics') {
      void options.metrics().then(
        (text) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics unavailable: ${err.message}\n`),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /healthz, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new EcpError(
              'connection',
              `port ${options.port} (metrics) is already in use on ${options.host}. Choose another with ECP_METRICS_PORT (0 or off disables it).`,
              'ECP_METRICS_PORT',
            )
          : err,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Default port of the worker's metrics and health endpoint under `npm start` (the OpenTelemetry Prometheus default). */
export const DEFAULT_METRICS_PORT = 9464;

/**
 * ECP_METRICS_PORT: a port number, or `0`/`off` for no endpoint; unset → `fallback` (npm start: 9464; the production
 * worker: null, opt-in). ECP_METRICS_HOST sets the interface (default 127.0.0.1).
 */
export function metricsSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fallback: number | null = null,
): { port: number; host: string; explicit: boolean } | null {
  const raw = env.ECP_METRICS_PORT?.trim();
  const host = env.ECP_METRICS_HOST?.trim() || '127.0.0.1';
  if (raw === undefined || raw === '') return fallback === null ? null : { port: fallback, host, explicit: false };
  if (raw === '0' || raw.toLowerCase() === 'off') return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new EcpError('config_invalid', `ECP_METRICS_PORT "${raw}" is not a port number (1-65535), 0 or off`, 'ECP_METRICS_PORT');
  return { port, host, explicit: true };
}
