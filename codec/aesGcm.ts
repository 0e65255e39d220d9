import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { EcpError } from '../common';
import type { PayloadKeyring } from './keys';

/** Temporal's convention for encrypted payloads (the Web UI and codec servers recognise it). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12; // 96-bit random IV per payload: GCM's recommended size
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Associated data: authenticated, not encrypted. Binds the ciphertext to its encoding and key id, so metadata that
 * was rewritten (another key id, another encoding) fails authentication instead of decrypting under a wrong label.
 */
function associatedData(keyId: string): Buffer {
  return Buffer.from(`ecp-payload-v1\u0000${ENCRYPTED_ENCODING}\u0000${keyId}`, 'utf8');
}

/**
 * AES-256-GCM payload codec. Encodes every payload (the whole serialized payload, metadata included) with the active
 * key; decodes any configured key id; passes through payloads that are not `binary/encrypted`, so histories written
 * before encryption was turned on still decode. Runs outside the workflow sandbox (client, worker, codec server).
 * Without a keyring (encryption off) it encodes nothing and refuses encrypted payloads with a clear message, instead
 * of the default converter's "unknown encoding". The keyring can be swapped (configuration reload).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  #keyring: PayloadKeyring | null;

  constructor(keyring: PayloadKeyring | null) {
    this.#keyring = AesGcmPayloadCodec.#check(keyring);
  }

  /** Null when encryption is off. */
  get activeKeyId(): string | null {
    return this.#keyring?.activeKeyId ?? null;
  }

  get keyIds(): string[] {
    return [...(this.#keyring?.keys.keys() ?? [])];
  }

  /** Replaces the keys (e.g. after rotating the active key); the new keyring must be valid. */
  setKeyring(keyring: PayloadKeyring | null): void {
    this.#keyring = AesGcmPayloadCodec.#check(keyring);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    if (!this.#keyring) return payloads;
    const { activeKeyId, keys } = this.#keyring;
    const key = keys.get(activeKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(associatedData(activeKeyId));
      const plain = ProtoPayload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(activeKeyId) },
        data: new Uint8Array(data),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.#decodeOne(payload));
  }

  #decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const rawId = payload.metadata?.[KEY_ID_METADATA];
    if (!rawId) throw new EcpError('refused', `an encrypted payload has no "${KEY_ID_METADATA}" metadata; it cannot be decrypted`);
    const keyId = fromUtf8.decode(rawId);
    if (!this.#keyring) {
      throw new EcpError(
        'config_invalid',
        `payload is encrypted with key id "${keyId}", but no payload keys are configured: set ECP_PAYLOAD_KEYS (and ECP_PAYLOAD_ACTIVE_KEY) ` +
          'or the payloadEncryption section of ecp.yaml',
        'payloadEncryption.keys',
      );
    }
    const key = this.#keyring.keys.get(keyId);
    if (!key) {
      throw new EcpError(
        'config_invalid',
        `payload is encrypted with key id "${keyId}", which is not configured (${this.#keyring.source} has ${this.keyIds.map((k) => `"${k}"`).join(', ')}); ` +
          'add that key to decrypt it',
        'payloadEncryption.keys',
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new EcpError('refused', `encrypted payload (key id "${keyId}") is truncated: ${data.length} bytes`);
    const iv = data.subarray(0, IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(associatedData(keyId));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new EcpError(
        'refused',
        `encrypted payload failed authentication with key id "${keyId}": it was altered, or the key configured as "${keyId}" is not the one it was encrypted with`,
      );
    }
    return ProtoPayload.decode(plain) as Payload;
  }

  static #check(keyring: PayloadKeyring | null): PayloadKeyring | null {
    if (!keyring) return null;
    for (const [id, key] of keyring.keys) {
      if (key.length !== 32)
        throw new EcpError('config_invalid', `payload key "${id}" is ${key.length} bytes; AES-256 needs 32`, 'payloadEncryption.keys');
    }
    if (!keyring.keys.has(keyring.activeKeyId)) {
      throw new EcpError(
        'config_invalid',
        `active payload key "${keyring.activeKeyId}" is not among the configured keys`,
        'payloadEncryption.activeKey',
      );
    }
    return keyring;
  }
}
