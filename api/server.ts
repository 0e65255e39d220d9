import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { EcpClient } from '../client/ecpClient';
import { ListingSealVerifier } from '../client/listingSeal';
import { dataDirFromEnv } from '../config/dataDir';
import { dataConverterFor } from '../codec/dataConverter';
import { parseDuration } from '../common/duration';
import type { PlaneConfig } from '../config/load';
import { temporalTargetFromEnv } from '../config/temporalConnection';
import { EcpError } from '../common/errors';
import { assertPortFree } from '../config/ports';
import { createConsoleApp } from './app';
import { SecretAuthenticator, type Authenticator } from './auth/authenticator';
import { trustedProxiesFromEnv } from './auth/clientAddress';
import { OidcSignIn } from './auth/oidc';
import { SignInThrottle } from './auth/rateLimit';
import { SessionStore } from './auth/sessions';
import type { ConsoleDeps } from './deps';
import { buildUiAssets } from './uiAssets';
import { allowedOriginsFromEnv, HttpGateway } from '../gateway/http';
import { consoleUrlFromEnv } from '../gateway/settings';

export const DEFAULT_CONSOLE_PORT = 8088;

/** ECP_CONSOLE_PORT: a port number (default 8088), or `0`/`off` to not serve the console. */
export function consolePortFromEnv(env: NodeJS.ProcessEnv = process.env, fallback: number | null = DEFAULT_CONSOLE_PORT): number | null {
  const raw = env.ECP_CONSOLE_PORT?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw === '0' || raw.toLowerCase() === 'off') return null;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new EcpError('config_invalid', `ECP_CONSOLE_PORT "${raw}" is not a port number (1-65535), 0 or off`, 'ECP_CONSOLE_PORT');
  }
  return port;
}

/**
 * The console's dependencies from the plane's configuration: secret sign-in against the `console:` hashes, SSO when
 * given, sessions
 * with the configured expiry, sign-in throttling per source and per human-and-source (never per human alone).
 */
export function consoleDeps(options: {
  ecp: EcpClient;
  config: () => PlaneConfig;
  ui: ConsoleDeps['ui'];
  authenticator?: Authenticator;
  /** Single sign-on, discovered by `OidcSignIn.discover` (startConsole does it when `console.oidc` is configured). */
  oidc?: OidcSignIn | null;
  log?: (line: string) => void;
  now?: () => number;
}): ConsoleDeps {
  const settings = options.config().console;
  const now = options.now ?? Date.now;
  return {
    ecp: options.ecp,
    config: options.config,
    authenticator: options.authenticator ?? new SecretAuthenticator(() => options.config().console?.humans ?? {}),
    oidc: options.oidc ?? null,
    sessions: new SessionStore(
      {
        idleMs: parseDuration(settings?.sessionIdleTimeout ?? '30m') * 1000,
        maxAgeMs: parseDuration(settings?.sessionMaxAge ?? '12h') * 1000,
      },
      now,
    ),
    signInThrottle: new SignInThrottle(undefined, now),
    trustedProxies: trustedProxiesFromEnv(),
    ui: options.ui,
    log: options.log,
    now,
  };
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the console on 127.0.0.1:`port` (refusing to start if the port is taken). Connects its own Temporal client
 * through `EcpClient.connect`, so the plane's connection settings and data converter apply.
 */
export async function startConsole(options: {
  port: number;
  address: string;
  namespace: string;
  config: () => PlaneConfig;
  /** The plane's data directory, where its public key is (client/listingSeal.ts); default ECP_DATA_DIR, else ./.ecp-data. */
  dataDir?: string;
  host?: string;
  log?: (line: string) => void;
  /**
   * The process traces (OpenTelemetry registered): attempts started here (console, MCP gateway) carry the trace
   * context, so their workflow and activity spans join the caller's trace (workflows/interceptors.ts).
   */
  tracing?: boolean;
}): Promise<RunningConsole> {
  const host = options.host ?? (process.env.ECP_CONSOLE_HOST || '127.0.0.1');
  if (options.port !== 0)
    await assertPortFree(
      options.port,
      'web console',
      'Stop what uses it, or choose another port with ECP_CONSOLE_PORT (0 or off disables the console).',
    );
  // SSO's issuer is discovered before anything else starts: an unreachable or wrong issuer stops the console (fail closed).
  const oidcSettings = options.config().console?.oidc;
  const oidc = oidcSettings ? await OidcSignIn.discover(oidcSettings) : null;
  const [ecp, ui] = await Promise.all([
    EcpClient.connect({
      target: { ...temporalTargetFromEnv(), address: options.address, namespace: options.namespace },
      // The plane's payload keys (ecp.yaml payloadEncryption, else ECP_PAYLOAD_KEYS), so the console shows decrypted payloads.
      dataConverter: dataConverterFor({ config: options.config() }),
      // Inbox and lists show only rows the plane sealed; with no plane public key they fail instead of listing.
      listingSeal: ListingSealVerifier.fromDataDir(dataDirFromEnv(process.env, options.dataDir)),
      tracing: options.tracing ?? false,
    }),
    buildUiAssets(),
  ]);
  let url = '';
  const mcp = new HttpGateway({
    ecp,
    config: options.config,
    catalogue: (agent) => ecp.mcpCatalogue(agent),
    consoleUrl: () => consoleUrlFromEnv(url),
    allowedOrigins: allowedOriginsFromEnv(),
    log: options.log,
  });
  const app = createConsoleApp({ ...consoleDeps({ ecp, config: options.config, ui, oidc, log: options.log }), mcp });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: host }, () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  return {
    url,
    port,
    async close() {
      await mcp.close();
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      // Live-inbox streams never end by themselves.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await closing;
      await ecp.close();
    },
  };
}
