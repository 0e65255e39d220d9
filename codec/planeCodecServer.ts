import type { Hono } from 'hono';
import { EcpError } from '../common';
import type { AesGcmPayloadCodec } from './aesGcm';
import { resolveEnvRef, type PayloadEncryptionConfig } from './keys';
import { createCodecRoutes, serveCodecServer, type RunningCodecServer } from './server';

/**
 * The codec routes as ecp.yaml's `payloadEncryption.codecServer` configures them, or null when it configures none.
 * Token hashes given as `${env:NAME}` are resolved here (unset → error naming the field).
 */
export function codecRoutesFromConfig(options: {
  config: { payloadEncryption?: PayloadEncryptionConfig };
  codec: AesGcmPayloadCodec;
  namespace: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}): { app: Hono; port: number | undefined; host: string } | null {
  const settings = options.config.payloadEncryption?.codecServer;
  if (!settings) return null;
  const env = options.env ?? process.env;
  const tokenSha256 = settings.tokenSha256.map((h, i) => {
    const field = `payloadEncryption.codecServer.tokenSha256[${i}]`;
    const value = resolveEnvRef(h, field, env).trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(value))
      throw new EcpError('config_invalid', `${field}: must be the hex SHA-256 of a token (\`printf %s "$TOKEN" | sha256sum\`)`, field);
    return value;
  });
  const app = createCodecRoutes({
    codec: options.codec,
    tokenSha256,
    allowedOrigins: settings.allowedOrigins,
    namespaces: settings.namespaces ?? [options.namespace],
    log: options.log,
  });
  return { app, port: settings.port, host: settings.host };
}

/**
 * Starts the plane's codec server when configured: port from ECP_CODEC_PORT, else `codecServer.port`; interface from
 * ECP_CODEC_HOST, else `codecServer.host` (127.0.0.1; a container needs 0.0.0.0). ECP_CODEC_PORT without a
 * `codecServer` section is an error — the server never runs without configured tokens.
 */
export async function startPlaneCodecServer(options: {
  config: { payloadEncryption?: PayloadEncryptionConfig };
  codec: AesGcmPayloadCodec;
  namespace: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}): Promise<RunningCodecServer | null> {
  const env = options.env ?? process.env;
  const rawPort = env.ECP_CODEC_PORT?.trim();
  if (rawPort === 'off' || rawPort === '0') return null;
  const routes = codecRoutesFromConfig(options);
  if (!routes) {
    if (rawPort) {
      throw new EcpError(
        'config_invalid',
        'ECP_CODEC_PORT is set, but ecp.yaml has no payloadEncryption.codecServer section (its tokenSha256 list authorises callers)',
        'ECP_CODEC_PORT',
      );
    }
    return null;
  }
  const port = rawPort ? Number(rawPort) : routes.port;
  if (port === undefined) return null;
  const host = env.ECP_CODEC_HOST?.trim() || routes.host;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new EcpError('config_invalid', `ECP_CODEC_PORT "${rawPort}" is not a port number (1-65535), 0 or off`, 'ECP_CODEC_PORT');
  try {
    return await serveCodecServer(routes.app, { port, host });
  } catch (err) {
    throw new EcpError('connection', `codec server cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
}
