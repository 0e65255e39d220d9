import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * The address sign-in throttling keys on: the TCP peer of the request's socket. `X-Forwarded-For` is used only when
 * the peer is one of `trustedProxies` (ECP_CONSOLE_TRUSTED_PROXIES), taking the rightmost hop that is not itself a
 * trusted proxy — anyone else could write any address there. Requests without a socket (in-process) are `unknown`.
 */
export function clientAddress(c: Context, trustedProxies: readonly string[] = []): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined;
  }
  if (!peer) return 'unknown';
  peer = normalize(peer);
  if (!trustedProxies.includes(peer)) return peer;
  const hops = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((h) => normalize(h.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) if (!trustedProxies.includes(hops[i]!)) return hops[i]!;
  return peer;
}

/** ECP_CONSOLE_TRUSTED_PROXIES: comma-separated addresses of reverse proxies whose X-Forwarded-For is believed. */
export function trustedProxiesFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.ECP_CONSOLE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((a) => normalize(a.trim()))
    .filter(Boolean);
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address, so one client has one key. */
function normalize(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1').toLowerCase();
}
