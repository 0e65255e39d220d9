/** The gateway's pure rules: the idempotency key of a tool call, and agent tokens (gateway/idempotency.ts, tokens.ts). */
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../common/canonical';
import { attemptIdFor } from '../../common/proposal';
import { callIdempotencyKey, timeBucket } from '../../gateway/idempotency';
import { agentForToken, bearerToken, createAgentToken, hashAgentToken } from '../../gateway/tokens';

describe('the idempotency key of a tool call', () => {
  const call = { tool: 'files__write_file', arguments: { path: '/a', content: 'x', n: 1 } };

  it('is mcp- + 64 hex, a valid proposal idempotency key, the same for reordered arguments and number spellings', () => {
    const key = callIdempotencyKey(call, 7);
    expect(key).toMatch(/^mcp-[0-9a-f]{64}$/);
    expect(callIdempotencyKey({ tool: call.tool, arguments: JSON.parse('{"n":1.0,"content":"x","path":"/a"}') }, 7)).toBe(key);
  });

  it('is the documented formula: mcp- + SHA-256 hex of the canonical JSON of { v, tool, arguments, bucket | key }', () => {
    expect(callIdempotencyKey(call, 7)).toBe(
      `mcp-${sha256Hex(canonicalJson({ v: 1, tool: call.tool, arguments: call.arguments, bucket: 7 }))}`,
    );
    const keyed = { ...call, arguments: { ...call.arguments, note: 'é ✓ 😀' }, clientKey: 'k-1' };
    expect(callIdempotencyKey(keyed, 7)).toBe(
      `mcp-${sha256Hex(canonicalJson({ v: 1, tool: keyed.tool, arguments: keyed.arguments, key: 'k-1' }))}`,
    );
  });

  it('differs by tool, by arguments and by time bucket; a client key replaces the bucket', () => {
    const key = callIdempotencyKey(call, 7);
    expect(callIdempotencyKey({ ...call, tool: 'files__edit_file' }, 7)).not.toBe(key);
    expect(callIdempotencyKey({ ...call, arguments: { ...call.arguments, content: 'y' } }, 7)).not.toBe(key);
    expect(callIdempotencyKey(call, 8)).not.toBe(key);
    const withKey = callIdempotencyKey({ ...call, clientKey: 'retry-1' }, 7);
    expect(callIdempotencyKey({ ...call, clientKey: 'retry-1' }, 8)).toBe(withKey);
    expect(callIdempotencyKey({ ...call, clientKey: 'retry-2' }, 7)).not.toBe(withKey);
  });

  it('leaves the agent to the attempt ID: two agents never share an attempt', () => {
    const key = callIdempotencyKey(call, 7);
    expect(attemptIdFor('files-bot', key)).not.toBe(attemptIdFor('other-bot', key));
  });

  it('buckets time by the window', () => {
    expect(timeBucket(59_999, 60_000)).toBe(0);
    expect(timeBucket(60_000, 60_000)).toBe(1);
  });
});

describe('agent tokens', () => {
  const a = createAgentToken();
  const b = createAgentToken();
  const agents = { 'files-bot': { tokenHash: a.tokenHash }, 'other-bot': { tokenHash: b.tokenHash } };

  it('are ecp_mcp_ + 43 base64url characters; the hash is sha256$ of the token', () => {
    expect(a.token).toMatch(/^ecp_mcp_[A-Za-z0-9_-]{43}$/);
    expect(a.tokenHash).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(hashAgentToken(a.token)).toBe(a.tokenHash);
    expect(a.token).not.toBe(b.token);
  });

  it('name their own agent, and nobody else’s; unknown and malformed tokens name none', () => {
    expect(agentForToken(a.token, agents)).toBe('files-bot');
    expect(agentForToken(b.token, agents)).toBe('other-bot');
    expect(agentForToken(createAgentToken().token, agents)).toBeNull();
    expect(agentForToken(`${a.token}x`, agents)).toBeNull();
    expect(agentForToken(a.tokenHash, agents)).toBeNull();
    expect(agentForToken('', agents)).toBeNull();
  });

  it('are read from an Authorization: Bearer header only', () => {
    expect(bearerToken(`Bearer ${a.token}`)).toBe(a.token);
    expect(bearerToken(`bearer  ${a.token}`)).toBe(a.token);
    expect(bearerToken(`Basic ${a.token}`)).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
});
