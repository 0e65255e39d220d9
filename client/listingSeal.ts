import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EcpError } from '../common/errors';

/**
 * The listing seal: the plane's Ed25519 signature over one attempt run's identity, fetched by the attempt workflow
 * (a local activity) and published with its own search attributes. Only a plane worker holds the plane key, and only
 * the workflow can change its search attributes after it started, so a row with a valid seal for its own workflow ID
 * and run ID carries values the workflow wrote; a row without one was (partly) set by whoever started it.
 */
export const LISTING_SEAL_CONTEXT = 'ecp.listing-seal.v1';
/** Prefix of a seal value, naming its version (a later format gets a new prefix). */
const SEAL_PREFIX = 'v1:';

/** Env var naming the plane's private key file (worker side); default `<dataDir>/plane/plane.key`. */
export const PLANE_KEY_ENV = 'ECP_PLANE_KEY';
/**
 * Env var naming the plane's public key file (readers: CLI, console); default `<dataDir>/plane/plane.pub`. Several files,
 * comma-separated, during a key rotation: a seal made with any of them counts.
 */
export const PLANE_PUBLIC_KEY_ENV = 'ECP_PLANE_PUBLIC_KEY';

/** The plane's listing-seal private key in a data directory (`plane/plane.key`). */
export function defaultPlaneKeyPath(dataDir: string): string {
  return join(dataDir, 'plane', 'plane.key');
}
/** The plane's listing-seal public key in a data directory (`plane/plane.pub`). */
export function defaultPlanePublicKeyPath(dataDir: string): string {
  return join(dataDir, 'plane', 'plane.pub');
}

/** The signed bytes: a JSON array, so no value can run into the next (IDs may contain any character). */
export function listingSealBytes(namespace: string, workflowId: string, runId: string): Buffer {
  return Buffer.from(JSON.stringify([LISTING_SEAL_CONTEXT, namespace, workflowId, runId]), 'utf8');
}

/** Seals one attempt run with the plane's private key. */
export function signListingSeal(privateKey: KeyObject, namespace: string, workflowId: string, runId: string): string {
  return SEAL_PREFIX + sign(null, listingSealBytes(namespace, workflowId, runId), privateKey).toString('base64url');
}

/**
 * The worker's plane key: ECP_PLANE_KEY's file (which must exist: a configured key is never replaced silently), else
 * `<dataDir>/plane/plane.key`, generated on first start (PKCS#8 PEM, mode 0600) with its public key beside it.
 */
export function loadOrCreatePlaneKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const configured = env[PLANE_KEY_ENV]?.trim();
  const path = configured ? resolve(configured) : defaultPlaneKeyPath(dataDir);
  if (!existsSync(path)) {
    if (configured) throw new EcpError('config_invalid', `${PLANE_KEY_ENV}: no plane key file at ${path}`, PLANE_KEY_ENV);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // Written whole, then linked into place: of workers starting together on one data dir, exactly one key wins
    // and the others read it (two keys would leave one worker's attempts unlisted).
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    try {
      linkSync(tmp, path);
      writeFileSync(defaultPlanePublicKeyPath(dataDir), publicKey.export({ format: 'pem', type: 'spki' }));
      return privateKey;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  const key = readKey(path, 'private', configured ? PLANE_KEY_ENV : 'plane key');
  // Readers on this machine find the public key of the key in use in the data dir, also when it is configured elsewhere.
  const pub = defaultPlanePublicKeyPath(dataDir);
  const pem = createPublicKey(key).export({ format: 'pem', type: 'spki' }) as string;
  if (!existsSync(pub) || readFileSync(pub, 'utf8') !== pem) {
    mkdirSync(dirname(pub), { recursive: true, mode: 0o700 });
    writeFileSync(pub, pem);
  }
  return key;
}

function readKey(path: string, kind: 'private' | 'public', field: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcpError('config_invalid', `${field}: cannot read ${path}: ${(err as Error).message}`, field);
  }
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new EcpError('config_invalid', `${field}: ${path} is not a PEM ${kind} key: ${(err as Error).message}`, field);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new EcpError('config_invalid', `${field}: ${path} is not an Ed25519 ${kind} key`, field);
  return key;
}

/**
 * Checks listing seals against the plane's public key. The key is read on first use, so commands that list nothing
 * never need it; a missing or unreadable key makes listing fail with a clear error (never an unverified list).
 */
export class ListingSealVerifier {
  #keys: KeyObject[] | undefined;
  readonly #load: () => KeyObject[];

  /** `key`: the plane key (private or public), or a loader of the accepted public keys, called on first use. */
  constructor(key: KeyObject | (() => KeyObject[])) {
    if (typeof key === 'function') this.#load = key;
    else {
      const pub = key.type === 'private' ? createPublicKey(key) : key;
      this.#load = () => [pub];
    }
  }

  /**
   * The plane's public key from ECP_PLANE_PUBLIC_KEY, else `<dataDir>/plane/plane.pub` (written by the worker on first
   * start), else derived from `<dataDir>/plane/plane.key`.
   */
  static fromDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): ListingSealVerifier {
    return new ListingSealVerifier(() => {
      const configured =
        env[PLANE_PUBLIC_KEY_ENV]?.split(',')
          .map((f) => f.trim())
          .filter(Boolean) ?? [];
      if (configured.length > 0) return configured.map((file) => readKey(resolve(file), 'public', PLANE_PUBLIC_KEY_ENV));
      const pub = defaultPlanePublicKeyPath(dataDir);
      if (existsSync(pub)) return [readKey(pub, 'public', 'plane public key')];
      const priv = defaultPlaneKeyPath(dataDir);
      if (existsSync(priv)) return [createPublicKey(readKey(priv, 'private', 'plane key'))];
      throw new EcpError(
        'config_invalid',
        `cannot verify attempt listings: no plane public key at ${pub} (the plane writes it on first start); ` +
          `point --data-dir / ECP_DATA_DIR at the plane's data directory or set ${PLANE_PUBLIC_KEY_ENV} to its public key file`,
        PLANE_PUBLIC_KEY_ENV,
      );
    });
  }

  /** The accepted public keys; throws the loader's error when there is none. */
  get publicKeys(): KeyObject[] {
    this.#keys ??= this.#load();
    return this.#keys;
  }

  /** True only for a well-formed seal the plane key made for exactly this namespace, workflow ID and run ID. */
  verify(namespace: string, workflowId: string, runId: string | undefined, seal: string | undefined | null): boolean {
    const keys = this.publicKeys;
    if (!runId || typeof seal !== 'string' || !seal.startsWith(SEAL_PREFIX)) return false;
    const signature = Buffer.from(seal.slice(SEAL_PREFIX.length), 'base64url');
    if (signature.length !== 64) return false;
    const bytes = listingSealBytes(namespace, workflowId, runId);
    return keys.some((key) => verify(null, bytes, key, signature));
  }
}
