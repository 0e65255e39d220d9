import { readFileSync } from 'node:fs';
import { EcpError } from '../common';

/** How to reach Temporal, from the environment. Shared by worker, client library and CLI. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer; serverNameOverride?: string } | true;
  apiKey?: string;
}

/**
 * TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, mTLS via TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (PEM paths) with
 * optional TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_NAME, or TEMPORAL_API_KEY (Temporal Cloud; implies TLS).
 */
export function temporalTargetFromEnv(env: NodeJS.ProcessEnv = process.env, fallbackAddress = 'localhost:7233'): TemporalTarget {
  const target: TemporalTarget = { address: env.TEMPORAL_ADDRESS || fallbackAddress, namespace: env.TEMPORAL_NAMESPACE || 'default' };
  const read = (name: string): Buffer | undefined => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new EcpError('connection', `${name}=${path} cannot be read: ${(err as Error).message}`);
    }
  };
  const crt = read('TEMPORAL_TLS_CERT');
  const key = read('TEMPORAL_TLS_KEY');
  if (Boolean(crt) !== Boolean(key)) throw new EcpError('connection', 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  const ca = read('TEMPORAL_TLS_CA');
  if (crt || ca || env.TEMPORAL_TLS === 'true') {
    target.tls = {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
    };
  }
  if (env.TEMPORAL_API_KEY) {
    target.apiKey = env.TEMPORAL_API_KEY;
    target.tls ??= true;
  }
  return target;
}
