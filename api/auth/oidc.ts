import * as oidc from 'openid-client';
import { EcpError } from '../../common/errors';
import type { Directory } from '../../common/directory';
import type { ConsoleOidcConfig } from '../../config/schema';
import { PendingSealer, type PendingSignIn } from './oidcPending';

/** Where the browser goes to sign in with SSO, and where the identity provider sends it back (`redirectUrl`'s path). */
export const OIDC_START_PATH = '/auth/oidc/start';
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';

/** How long a started sign-in may take at the identity provider before its callback is refused. */
export const PENDING_TTL_MS = 10 * 60_000;

/** A refused SSO sign-in: `message` is shown to the person on the refusal page (never secrets or tokens). */
export class OidcRefusal extends EcpError {
  constructor(message: string) {
    super('unauthenticated', message);
  }
}

/** Hosts where plain http is tolerated for the issuer (development and tests); anywhere else it must be https. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Resolves `${env:NAME}` (the only form the schema accepts for the client secret). A missing variable is a
 * configuration error naming the field, so the console never starts with an empty secret.
 */
export function resolveClientSecret(reference: string, env: NodeJS.ProcessEnv = process.env): string {
  const name = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(reference)?.[1];
  if (!name) throw new EcpError('config_invalid', 'console.oidc.clientSecret must be ${env:NAME}', 'console.oidc.clientSecret');
  const value = env[name];
  if (!value)
    throw new EcpError('config_invalid', `console.oidc.clientSecret: environment variable ${name} is not set`, 'console.oidc.clientSecret');
  return value;
}

/**
 * OpenID Connect sign-in for the console with `openid-client`: authorization code flow with PKCE (S256), state and
 * nonce, fresh for each sign-in and sealed into a cookie only this process can open (oidcPending.ts). The issuer's
 * metadata is discovered once by {@link OidcSignIn.discover} (a changed issuer or client needs a console restart);
 * which human a token names is decided per callback from the current configuration ({@link humanFromClaims}).
 */
export class OidcSignIn {
  readonly #sealer = new PendingSealer();

  private constructor(
    private readonly client: oidc.Configuration,
    readonly settings: ConsoleOidcConfig,
    private readonly now: () => number,
  ) {}

  /**
   * Discovers the issuer (`/.well-known/openid-configuration`) and checks it supports what the console needs. Not
   * retried: a failure is a `config_invalid` error naming `console.oidc.issuer`, and the console does not start.
   */
  static async discover(
    settings: ConsoleOidcConfig,
    options: { env?: NodeJS.ProcessEnv; now?: () => number; timeoutSeconds?: number } = {},
  ): Promise<OidcSignIn> {
    const secret = resolveClientSecret(settings.clientSecret, options.env);
    const issuer = new URL(settings.issuer);
    const insecure = issuer.protocol === 'http:';
    if (insecure && !LOOPBACK.has(issuer.hostname))
      throw new EcpError(
        'config_invalid',
        `console.oidc.issuer ${settings.issuer} must use https (http only on localhost)`,
        'console.oidc.issuer',
      );
    let client: oidc.Configuration;
    try {
      client = await oidc.discovery(issuer, settings.clientId, secret, undefined, {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        timeout: options.timeoutSeconds ?? 10,
      });
    } catch (err) {
      throw new EcpError(
        'config_invalid',
        `console.oidc.issuer: discovery at ${settings.issuer} failed: ${describe(err)}. Check the URL and that the identity provider is up; the console does not start without it.`,
        'console.oidc.issuer',
      );
    }
    const methods = client.serverMetadata().code_challenge_methods_supported;
    // An issuer that does not list S256 may still do PKCE; one that lists other methods only cannot.
    if (methods && !methods.includes('S256'))
      throw new EcpError(
        'config_invalid',
        `console.oidc.issuer: ${settings.issuer} does not support PKCE with S256`,
        'console.oidc.issuer',
      );
    return new OidcSignIn(client, settings, options.now ?? Date.now);
  }

  /**
   * Starts a sign-in: the identity provider's authorization URL, and the sealed pending sign-in (state, nonce, PKCE
   * verifier) for the browser to carry to the callback in a cookie. Keeps nothing on the server.
   */
  async start(): Promise<{ pending: string; authorizationUrl: URL }> {
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      createdAt: this.now(),
    };
    const authorizationUrl = oidc.buildAuthorizationUrl(this.client, {
      redirect_uri: this.settings.redirectUrl,
      scope: ['openid', ...this.settings.scopes.filter((s) => s !== 'openid')].join(' '),
      response_type: 'code',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { pending: this.#sealer.seal(pending), authorizationUrl };
  }

  /**
   * Completes a sign-in from the callback's query string and the sealed pending sign-in (the route clears its cookie,
   * and the provider takes each code once), within {@link PENDING_TTL_MS} of its start. The code is exchanged with its PKCE verifier and the ID token checked (signature, issuer, audience, expiry, nonce) by
   * `openid-client`; state is checked against the pending one. Claims missing from the ID token are read from the
   * userinfo endpoint (same subject). Not retried: any failure is an {@link OidcRefusal}.
   */
  async finish(sealed: string | undefined, query: URLSearchParams): Promise<Record<string, unknown>> {
    const pending = this.#sealer.open(sealed);
    if (!pending) throw new OidcRefusal('this sign-in was not started here (or the console restarted since); start again');
    const age = this.now() - pending.createdAt;
    if (age < 0 || age > PENDING_TTL_MS) throw new OidcRefusal('this sign-in took longer than 10 minutes; start again');
    const providerError = query.get('error');
    if (providerError) {
      const description = query.get('error_description');
      throw new OidcRefusal(`the identity provider refused: ${providerError}${description ? ` (${description})` : ''}`);
    }
    // The callback URL as the identity provider was told it (behind a proxy the request URL may differ).
    const callback = new URL(this.settings.redirectUrl);
    callback.search = query.toString();
    let claims: Record<string, unknown>;
    let accessToken: string;
    try {
      const tokens = await oidc.authorizationCodeGrant(this.client, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = { ...tokens.claims() };
      accessToken = tokens.access_token;
    } catch (err) {
      throw new OidcRefusal(`the sign-in response did not check out: ${describe(err)}`);
    }
    if (claims[this.settings.claim] === undefined || (this.settings.claim === 'email' && claims.email_verified === undefined)) {
      try {
        const info = await oidc.fetchUserInfo(this.client, accessToken, String(claims.sub));
        claims = { ...info, ...claims };
      } catch (err) {
        throw new OidcRefusal(`could not read the "${this.settings.claim}" claim from the userinfo endpoint: ${describe(err)}`);
      }
    }
    return claims;
  }
}

/**
 * The directory human a verified token's claims name, by the configured mapping (see `consoleOidcSchema`): the
 * `claim`'s value looked up in `humans` when given, else taken as the human ID; `email` counts only when
 * `email_verified` is true. Fails closed with an {@link OidcRefusal} saying what did not match.
 */
export function humanFromClaims(claims: Record<string, unknown>, settings: ConsoleOidcConfig, directory: Directory): string {
  const value = claims[settings.claim];
  if (typeof value !== 'string' || value === '')
    throw new OidcRefusal(`your identity provider account has no "${settings.claim}" claim, which this console signs in by`);
  if (settings.claim === 'email' && claims.email_verified !== true)
    throw new OidcRefusal(`your identity provider has not verified the email address ${value}`);
  const human = settings.humans ? (Object.hasOwn(settings.humans, value) ? settings.humans[value] : undefined) : value;
  if (human === undefined || !Object.hasOwn(directory.humans, human))
    throw new OidcRefusal(`${settings.claim} "${value}" is not a human in this plane's directory; ask an operator to add you`);
  return human;
}

/** openid-client's message with its cause's (where the specifics are, e.g. which parameter did not match). */
function describe(err: unknown): string {
  const e = err as { message?: string; cause?: unknown };
  const cause = e.cause instanceof Error && e.cause.message !== e.message ? ` (${e.cause.message})` : '';
  return `${e.message ?? String(err)}${cause}`;
}
