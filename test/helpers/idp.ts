import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** One account at the test identity provider: its subject and the claims its tokens carry. */
export interface TestIdpAccount {
  email: string;
  emailVerified?: boolean;
  preferredUsername?: string;
}

export interface TestIdp {
  /** The issuer identifier, on `localhost` (another site than the console's 127.0.0.1, as in production). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (`oidc-provider`, its development login and consent pages) on a loopback port, with
 * one confidential client for `redirectUri` (PKCE required) and the given accounts, keyed by login name. A login name
 * that is not an account is refused by the provider.
 */
export async function startTestIdp(options: { redirectUri: string; accounts: Record<string, TestIdpAccount> }): Promise<TestIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const clientId = 'ecp-console';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username'] },
    pkce: { required: () => true },
    cookies: { keys: ['test-idp-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, sub) {
      const account = Object.hasOwn(options.accounts, sub) ? options.accounts[sub] : undefined;
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          email: account.email,
          email_verified: account.emailVerified ?? true,
          preferred_username: account.preferredUsername ?? sub,
        }),
      };
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
