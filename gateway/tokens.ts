import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { McpConfig } from '../config/schema';

/** Every gateway token starts with this, so a leaked one is recognisable (secret scanners, logs). */
export const MCP_TOKEN_PREFIX = 'ecp_mcp_';
/** A well-formed token: the prefix and 32 random bytes in base64url (43 characters). */
const TOKEN_FORMAT = /^ecp_mcp_[A-Za-z0-9_-]{43}$/;

/** A new agent token and the `tokenHash` line ecp.yaml keeps for it (the token itself is never stored by ECP). */
export function createAgentToken(): { token: string; tokenHash: string } {
  const token = `${MCP_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, tokenHash: hashAgentToken(token) };
}

/** `sha256$<hex>` of a token: the form `mcp.agents.<name>.tokenHash` holds. The token has 256 random bits, so no salt. */
export function hashAgentToken(token: string): string {
  return `sha256$${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** True when the text has the shape of a gateway token (checked before hashing, so junk is refused plainly). */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_FORMAT.test(token);
}

/**
 * The agent a bearer token belongs to, or null. Compares the token's hash with every configured hash in constant
 * time and without stopping at a match, so timing tells nothing about which agent, or how much of a hash, matched.
 */
export function agentForToken(token: string, agents: McpConfig['agents']): string | null {
  if (!isWellFormedToken(token)) return null;
  const presented = Buffer.from(hashAgentToken(token), 'utf8');
  let found: string | null = null;
  for (const [agent, { tokenHash }] of Object.entries(agents)) {
    const expected = Buffer.from(tokenHash, 'utf8');
    // Hashes from config all have one length (the schema's regex); a different length cannot match.
    if (expected.length === presented.length && timingSafeEqual(expected, presented) && found === null) found = agent;
  }
  return found;
}

/** The token in an `Authorization: Bearer <token>` header; null when the header is missing or not of that scheme. */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1]! : null;
}
