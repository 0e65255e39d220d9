import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { EcpError } from '../../common/errors';

/** scrypt cost: N=2^15, r=8, p=1 (~32 MiB, tens of ms) — slow enough to make guessing a leaked hash expensive. */
const PARAMS = { N: 32768, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const MAX_MEM = 64 * 1024 * 1024;

function derive(secret: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret.normalize('NFC'), salt, length, { ...options, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/**
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>` — the only form of a secret that configuration holds. Synchronous:
 * it runs in the CLI and at demo setup, never per request. `cost` (scrypt N) may be lowered only for generated
 * high-entropy secrets (see `generateSecret`), where stretching adds nothing: 120 random bits cannot be guessed.
 */
export function hashSecret(secret: string, cost: number = PARAMS.N): string {
  if (secret.length < 12) throw new EcpError('invalid_input', 'a sign-in secret must be at least 12 characters', 'secret');
  const salt = randomBytes(16);
  const key = scryptSync(secret.normalize('NFC'), salt, KEY_LENGTH, { ...PARAMS, N: cost, maxmem: MAX_MEM });
  return ['scrypt', cost, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** scrypt N for generated 120-bit secrets (the demo's): cheap, since there is nothing to stretch. */
export const GENERATED_SECRET_COST = 1024;

/** Constant-time check of a secret against a stored hash. A malformed hash never verifies. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || expected.length < 16) return false;
  try {
    const actual = await derive(secret, salt, { N, r, p }, expected.length);
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}

/** A random secret for a new human or the demo: 20 characters of base64url (120 bits). */
export function generateSecret(): string {
  return randomBytes(15).toString('base64url');
}
