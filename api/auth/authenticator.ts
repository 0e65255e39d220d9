import type { ConsoleConfig } from '../../config/schema';
import { verifySecret } from './secrets';

/** Who signed in. `human` is always a human ID from the directory. */
export interface Identity {
  human: string;
  /** How they proved it ("secret", later "oidc"), recorded with the session. */
  method: string;
}

/**
 * Turns credentials into an identity. The console only knows this interface: a secret-based one today; an OIDC one
 * can slot in later (its callback route produces the same `Identity`, mapped onto a directory human).
 */
export interface Authenticator {
  readonly method: string;
  /** Resolves to the identity, or null for any failure (unknown human and wrong secret are indistinguishable). */
  authenticate(credentials: { human: string; secret: string }): Promise<Identity | null>;
}

/**
 * Secrets (tokens or passwords) checked against scrypt hashes from the `console:` section of the configuration.
 * `hashes` is read on every attempt, so a configuration reload takes effect at once.
 */
export class SecretAuthenticator implements Authenticator {
  readonly method = 'secret';
  // When the human is unknown, a configured hash is checked anyway (and the result ignored), so an unknown human
  // costs the same time as a known one: no user enumeration by timing.
  static readonly #fallback = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

  constructor(private readonly hashes: () => ConsoleConfig['humans']) {}

  async authenticate({ human, secret }: { human: string; secret: string }): Promise<Identity | null> {
    const hashes = this.hashes();
    const entry = Object.hasOwn(hashes, human) ? hashes[human] : undefined;
    const stored = entry?.secretHash ?? Object.values(hashes)[0]?.secretHash ?? SecretAuthenticator.#fallback;
    const ok = await verifySecret(secret, stored);
    return ok && entry ? { human, method: this.method } : null;
  }
}
