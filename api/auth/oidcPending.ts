import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

/** What one started SSO sign-in must present again at its callback: all three random, for this sign-in only. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** When it started (ms), so a callback after the time limit is refused. */
  createdAt: number;
}

const pendingSchema = z.strictObject({
  state: z.string().min(1),
  nonce: z.string().min(1),
  codeVerifier: z.string().min(43).max(128),
  createdAt: z.number().int(),
});
// Binds the ciphertext to its purpose: a value sealed for anything else never opens here.
const AAD = Buffer.from('ecp-console-oidc-pending-v1');
const MAX_SEALED = 1024;

/**
 * A started sign-in sealed for the browser to carry (AES-256-GCM under a key only this console process holds): the
 * browser can neither read the PKCE verifier nor change anything, and the server keeps nothing per started sign-in,
 * so a flood of started sign-ins costs no memory and can never push out a human's own (no lockout lever). A restart
 * makes a new key: sign-ins in progress then start again.
 */
export class PendingSealer {
  readonly #key = randomBytes(32);

  seal(pending: PendingSignIn): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(pending), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The sealed sign-in, or null when it is missing, altered, sealed by another process, or not one of ours. */
  open(sealed: string | undefined): PendingSignIn | null {
    if (!sealed || sealed.length > MAX_SEALED) return null;
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 12 + 16 + 1) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      const parsed = pendingSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }
}
