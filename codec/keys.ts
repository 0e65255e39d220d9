import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { EcpError } from '../common';

/** AES-256: exactly 32 key bytes. */
export const PAYLOAD_KEY_BYTES = 32;

/** Key ids travel in payload metadata and in the env form `id:base64,…`, so `:` and `,` are excluded. */
export const keyIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 characters of A–Z a–z 0–9 . _ -');

const ENV_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Where a key comes from: `${env:NAME}` (the variable holds base64) or `{ file: path }` (the file holds base64,
 * relative paths from ecp.yaml's folder). Literal keys are refused so ecp.yaml never contains key material.
 */
export const keySourceSchema = z.union([
  z
    .string()
    .regex(ENV_REF, 'must be a reference like ${env:ECP_PAYLOAD_KEY_K1} (literal keys are refused: ecp.yaml must not hold key material)'),
  z.strictObject({ file: z.string().min(1, 'must be a path to a file holding the base64 key') }),
]);

/** The `payloadEncryption` section of ecp.yaml. */
export const payloadEncryptionSchema = z
  .strictObject({
    /** The key id new payloads are encrypted with. Every other configured key still decrypts. */
    activeKey: keyIdSchema,
    keys: z.record(keyIdSchema, keySourceSchema).refine((keys) => Object.keys(keys).length > 0, 'must configure at least one key'),
    /** The codec server for Temporal's Web UI and `temporal --codec-endpoint`; off unless configured. */
    codecServer: z
      .strictObject({
        port: z.number().int().min(1).max(65535).optional(),
        host: z.string().min(1).default('127.0.0.1'),
        /** Browser origins allowed to call it (the Web UI's), exact match, e.g. http://localhost:8080. */
        allowedOrigins: z
          .array(
            z
              .string()
              .regex(/^https?:\/\/[^/\s]+$/, 'must be an origin like https://temporal-ui.example.com (scheme, host, port; no path)'),
          )
          .default([]),
        /** SHA-256 (hex) of each bearer token allowed to use it; `${env:NAME}` references are allowed. */
        tokenSha256: z
          .array(
            z.union([
              z.string().regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of a token'),
              z.string().regex(ENV_REF, 'must be hex SHA-256 or ${env:NAME}'),
            ]),
          )
          .min(1, 'must list at least one token hash: the codec server never runs unauthenticated'),
        /** Temporal namespaces (X-Namespace) it serves; default: the plane's namespace. */
        namespaces: z.array(z.string().min(1)).optional(),
      })
      .optional(),
  })
  .refine((s) => s.activeKey in s.keys, { message: 'must name one of the configured keys', path: ['activeKey'] });

export type PayloadEncryptionConfig = z.output<typeof payloadEncryptionSchema>;

/** The key material: every id that decrypts, and the one that encrypts. */
export interface PayloadKeyring {
  activeKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
  /** Where the keys came from, for messages: `ecp.yaml (payloadEncryption)` or `ECP_PAYLOAD_KEYS`. */
  source: string;
}

/** Decodes a base64 AES-256 key; the error names the field and never echoes the value. */
export function decodeKey(text: string, field: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))
    throw new EcpError('config_invalid', `${field}: the key is not base64 (generate one with \`openssl rand -base64 32\`)`, field);
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== PAYLOAD_KEY_BYTES) {
    throw new EcpError(
      'config_invalid',
      `${field}: the key is ${key.length} bytes; AES-256 needs exactly ${PAYLOAD_KEY_BYTES} (generate one with \`openssl rand -base64 32\`)`,
      field,
    );
  }
  return key;
}

/** Resolves a `${env:NAME}` reference, failing closed when the variable is unset. */
export function resolveEnvRef(value: string, field: string, env: NodeJS.ProcessEnv): string {
  const name = ENV_REF.exec(value)?.[1];
  if (!name) return value;
  const resolved = env[name];
  if (!resolved) throw new EcpError('config_invalid', `${field}: environment variable ${name} is not set`, field);
  return resolved;
}

/** Builds the keyring from ecp.yaml's section: reads the variables and files it names. */
export function keyringFromConfig(section: PayloadEncryptionConfig, baseDir: string, env: NodeJS.ProcessEnv = process.env): PayloadKeyring {
  const keys = new Map<string, Buffer>();
  for (const [id, source] of Object.entries(section.keys)) {
    const field = `payloadEncryption.keys.${id}`;
    if (typeof source === 'string') keys.set(id, decodeKey(resolveEnvRef(source, field, env), field));
    else {
      const path = isAbsolute(source.file) ? source.file : resolve(baseDir, source.file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new EcpError('config_invalid', `${field}: cannot read key file ${path}: ${(err as Error).message}`, field);
      }
      keys.set(id, decodeKey(text, `${field} (file ${path})`));
    }
  }
  return { activeKeyId: section.activeKey, keys, source: 'ecp.yaml (payloadEncryption)' };
}

/**
 * The env form for clients that do not load ecp.yaml: ECP_PAYLOAD_KEYS=`id:base64,id:base64` and
 * ECP_PAYLOAD_ACTIVE_KEY (optional with one key). Null when ECP_PAYLOAD_KEYS is unset.
 */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKeyring | null {
  const list = env.ECP_PAYLOAD_KEYS?.trim();
  if (!list) {
    if (env.ECP_PAYLOAD_ACTIVE_KEY)
      throw new EcpError('config_invalid', 'ECP_PAYLOAD_ACTIVE_KEY is set but ECP_PAYLOAD_KEYS is not', 'ECP_PAYLOAD_KEYS');
    return null;
  }
  const keys = new Map<string, Buffer>();
  for (const [i, entry] of list.split(',').entries()) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon).trim();
    const field = `ECP_PAYLOAD_KEYS[${i}]`;
    if (colon < 0 || !keyIdSchema.safeParse(id).success) {
      throw new EcpError(
        'config_invalid',
        `${field}: expected "keyId:base64Key" with a key id of A–Z a–z 0–9 . _ - (got "${id || entry.slice(0, 12)}…")`,
        'ECP_PAYLOAD_KEYS',
      );
    }
    if (keys.has(id)) throw new EcpError('config_invalid', `${field}: key id "${id}" is listed twice`, 'ECP_PAYLOAD_KEYS');
    keys.set(id, decodeKey(entry.slice(colon + 1), `ECP_PAYLOAD_KEYS (key "${id}")`));
  }
  const active = env.ECP_PAYLOAD_ACTIVE_KEY?.trim() || (keys.size === 1 ? [...keys.keys()][0]! : undefined);
  if (!active)
    throw new EcpError(
      'config_invalid',
      'ECP_PAYLOAD_ACTIVE_KEY must name the key that encrypts when ECP_PAYLOAD_KEYS lists several',
      'ECP_PAYLOAD_ACTIVE_KEY',
    );
  if (!keys.has(active))
    throw new EcpError(
      'config_invalid',
      `ECP_PAYLOAD_ACTIVE_KEY "${active}" is not one of the keys in ECP_PAYLOAD_KEYS (${[...keys.keys()].join(', ')})`,
      'ECP_PAYLOAD_ACTIVE_KEY',
    );
  return { activeKeyId: active, keys, source: 'ECP_PAYLOAD_KEYS' };
}
