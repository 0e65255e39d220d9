import { parseDuration } from '../common/duration';
import type { PlaneConfig } from '../config/load';
import type { GatewaySettings } from './server';

/** The local console's address when nothing says otherwise (`npm start`'s default console port). */
export const DEFAULT_CONSOLE_URL = 'http://localhost:8088';

/** The console base URL for links: ECP_CONSOLE_URL, else the given fallback (the console the plane serves). */
export function consoleUrlFromEnv(fallback: string = DEFAULT_CONSOLE_URL, env: NodeJS.ProcessEnv = process.env): string {
  return env.ECP_CONSOLE_URL?.trim() || fallback;
}

/** The gateway's timing from the `mcp:` section (its defaults when the section is absent). */
export function gatewaySettings(config: PlaneConfig, consoleUrl: string): GatewaySettings {
  const mcp = config.mcp;
  return {
    holdMs: parseDuration(mcp?.holdTime ?? '50s') * 1000,
    progressMs: parseDuration(mcp?.progressInterval ?? '5s') * 1000,
    idempotencyWindowMs: parseDuration(mcp?.idempotencyWindow ?? '10m') * 1000,
    consoleUrl,
  };
}
