import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aesGcm';
import { keyringFromConfig, keyringFromEnv, type PayloadEncryptionConfig, type PayloadKeyring } from './keys';

/** Where payload keys may come from: the plane configuration (ecp.yaml) and/or the environment. */
export interface PayloadKeySources {
  /** The configuration file (relative key files resolve against its folder) and its `payloadEncryption` section. */
  config?: { file: string; payloadEncryption?: PayloadEncryptionConfig };
  env?: NodeJS.ProcessEnv;
}

/**
 * The payload keys in effect, or null when encryption is not configured. ecp.yaml's `payloadEncryption` section wins;
 * without one, ECP_PAYLOAD_KEYS / ECP_PAYLOAD_ACTIVE_KEY (for clients that do not load ecp.yaml). A configured key
 * that cannot be resolved (variable unset, file unreadable, wrong length) throws, naming the field: fail closed.
 */
export function resolvePayloadKeyring(sources: PayloadKeySources = {}): PayloadKeyring | null {
  const env = sources.env ?? process.env;
  const section = sources.config?.payloadEncryption;
  if (section && sources.config) return keyringFromConfig(section, dirname(sources.config.file), env);
  return keyringFromEnv(env);
}

/** The codec for these sources; with no keys configured it encrypts nothing and explains encrypted payloads. */
export function payloadCodecFor(sources: PayloadKeySources = {}): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(resolvePayloadKeyring(sources));
}

/**
 * The one place a Temporal `DataConverter` is built — for the worker, `EcpClient.connect` (CLI, console, audit tools)
 * and the evidence-pack verifier — so every party encrypts and decrypts alike (payloads and failure messages). Codecs run outside the workflow
 * sandbox, so the workflow bundle is unaffected.
 */
export function dataConverterFor(sources: PayloadKeySources = {}): DataConverter {
  return dataConverterWith(payloadCodecFor(sources));
}

/**
 * The failure converter every party loads (common/failureConverter.cjs): failure messages and stack traces travel as
 * an encoded payload, so the codec encrypts them too. Workflow bundles name the same file (workflows/bundle.ts).
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('../common/failureConverter.cjs', import.meta.url));

/**
 * A data converter around an existing codec (so the caller can keep it and swap its keys on reload). Failures' common
 * attributes (message, stack trace) are encoded, so with encryption on no error text reaches history in plaintext.
 */
export function dataConverterWith(codec: AesGcmPayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** Decodes payloads as stored in history (the last codec applied on encode is the first undone). */
export async function decodePayloads(codecs: readonly PayloadCodec[], payloads: Payload[]): Promise<Payload[]> {
  let out = payloads;
  for (const codec of [...codecs].reverse()) out = await codec.decode(out);
  return out;
}
