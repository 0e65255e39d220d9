import { readFileSync } from 'node:fs';
import { EcpError } from '../common';

/** How to reach Temporal, from the environment. Shared by worker, client library and CLI. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  tls?: { clientCertPair?: { crt: Buffer; key: Buffer }; serverRootCACertificate?: Buffer; serverNameOverride?: string } | true;
  apiKey?: string;
}

/** Each PEM input, by file or inline: ECP's short names and the `temporal` CLI's names are both accepted. */
const PEM_INPUTS = {
  cert: { paths: ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CLIENT_CERT_PATH'], data: ['TEMPORAL_TLS_CLIENT_CERT_DATA'] },
  key: { paths: ['TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CLIENT_KEY_PATH'], data: ['TEMPORAL_TLS_CLIENT_KEY_DATA'] },
  ca: { paths: ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'], data: ['TEMPORAL_TLS_SERVER_CA_CERT_DATA'] },
} as const;

/**
 * The connection settings from the environment (the same variables the `temporal` CLI reads, plus short aliases):
 * TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE; mTLS client pair from TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY (PEM
 * paths; alias TEMPORAL_TLS_CLIENT_CERT_PATH / _KEY_PATH) or TEMPORAL_TLS_CLIENT_CERT_DATA + _KEY_DATA (PEM text);
 * the server's CA from TEMPORAL_TLS_CA (alias TEMPORAL_TLS_SERVER_CA_CERT_PATH) or TEMPORAL_TLS_SERVER_CA_CERT_DATA
 * (default: system roots); TEMPORAL_TLS_SERVER_NAME (SNI and the name the server certificate must carry);
 * TEMPORAL_TLS=true for TLS without a client certificate; TEMPORAL_API_KEY (Temporal Cloud API keys; implies TLS
 * unless TEMPORAL_TLS=false). Inconsistent settings throw, naming the variables.
 */
export function temporalTargetFromEnv(env: NodeJS.ProcessEnv = process.env, fallbackAddress = 'localhost:7233'): TemporalTarget {
  const target: TemporalTarget = { address: env.TEMPORAL_ADDRESS || fallbackAddress, namespace: env.TEMPORAL_NAMESPACE || 'default' };
  const pem = (input: keyof typeof PEM_INPUTS): Buffer | undefined => {
    const { paths, data } = PEM_INPUTS[input];
    const given = [...paths, ...data].filter((name) => env[name]);
    if (given.length > 1) throw new EcpError('connection', `set only one of ${given.join(', ')}`, given[0]);
    const name = given[0];
    if (!name) return undefined;
    const value = env[name]!;
    if ((data as readonly string[]).includes(name)) {
      if (!value.includes('-----BEGIN ')) throw new EcpError('connection', `${name} must hold PEM text (-----BEGIN …)`, name);
      return Buffer.from(value);
    }
    try {
      return readFileSync(value);
    } catch (err) {
      throw new EcpError('connection', `${name}=${value} cannot be read: ${(err as Error).message}`, name);
    }
  };
  const crt = pem('cert');
  const key = pem('key');
  if (Boolean(crt) !== Boolean(key))
    throw new EcpError(
      'connection',
      'the TLS client certificate and key must be set together (TEMPORAL_TLS_CERT + TEMPORAL_TLS_KEY, or their _PATH/_DATA forms)',
    );
  const ca = pem('ca');
  const tlsFlag = env.TEMPORAL_TLS?.trim().toLowerCase();
  if (tlsFlag && tlsFlag !== 'true' && tlsFlag !== 'false')
    throw new EcpError('connection', `TEMPORAL_TLS must be true or false, not "${env.TEMPORAL_TLS}"`, 'TEMPORAL_TLS');
  if (env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION?.trim().toLowerCase() === 'true') {
    throw new EcpError(
      'connection',
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported (the Temporal TypeScript SDK always verifies the server name); set TEMPORAL_TLS_SERVER_NAME to the name in the server certificate',
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
    );
  }
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim();
  if (tlsFlag === 'false' && (crt || ca || serverName)) {
    throw new EcpError(
      'connection',
      'TEMPORAL_TLS=false contradicts the TLS settings also given (client certificate, CA or server name)',
      'TEMPORAL_TLS',
    );
  }
  if (crt || ca || serverName || tlsFlag === 'true') {
    target.tls = {
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(serverName ? { serverNameOverride: serverName } : {}),
    };
  }
  if (env.TEMPORAL_API_KEY) {
    target.apiKey = env.TEMPORAL_API_KEY;
    if (tlsFlag !== 'false') target.tls ??= true;
  }
  return target;
}

/**
 * gRPC settings for ECP's client connections. A page of an attempt's history can hold up to 64 signals of the server's
 * maximum payload size (32 MiB, see SERVER_LIMITS), far over gRPC's default 4 MiB per message: without this, exporting
 * or showing the history of a flooded attempt would fail.
 */
export const CLIENT_CHANNEL_ARGS = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } as const;
