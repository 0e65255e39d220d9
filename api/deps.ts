import type { EcpClient } from '../client/ecpClient';
import type { PlaneConfig } from '../config/load';
import type { Authenticator } from './auth/authenticator';
import type { OidcSignIn } from './auth/oidc';
import type { SignInThrottle } from './auth/rateLimit';
import type { Session, SessionStore } from './auth/sessions';
import type { UiAssets } from './uiAssets';

/** What the console needs from the plane. Everything Temporal goes through `ecp`, so its data converter applies. */
export interface ConsoleDeps {
  /** A connected client; its own configuration is ignored in favour of `config()`. */
  ecp: EcpClient;
  /** The plane's current configuration (read per request, so a reload takes effect). */
  config: () => PlaneConfig;
  authenticator: Authenticator;
  /** Single sign-on, when `console.oidc` is configured (discovered at start); null offers secrets only. */
  oidc?: OidcSignIn | null;
  sessions: SessionStore;
  /** Sign-in failures per source and per human-and-source (never per human alone). */
  signInThrottle: SignInThrottle;
  /** Reverse proxies whose X-Forwarded-For names the source (ECP_CONSOLE_TRUSTED_PROXIES); none by default. */
  trustedProxies?: readonly string[];
  /** The browser app; null serves the API alone. */
  ui: UiAssets | null;
  /** How often the live inbox stream re-checks (ms). */
  livePollMs?: number;
  log?: (line: string) => void;
  now?: () => number;
  /** The MCP gateway's Streamable HTTP endpoint, served at `/mcp` (gateway/http.ts); absent: no `/mcp`. */
  mcp?: { handle(request: Request): Promise<Response> };
}

export type ConsoleEnv = { Variables: { session: Session } };
