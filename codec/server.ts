import { createHash, timingSafeEqual } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import type { Payload } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { EcpError } from '../common';
import type { AesGcmPayloadCodec } from './aesGcm';

/** Body limit: Temporal refuses payloads above 2 MB per blob by default; a batch of them fits in this. */
export const CODEC_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const CODEC_COOKIE = 'ecp_codec_token';
const MAX_PAYLOADS = 1000;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** Temporal's JSON form of payloads: bytes as base64 (the Web UI and `temporal --codec-endpoint` send this). */
const codecBodySchema = z.strictObject({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), b64).optional(), data: b64.optional() }))
    .max(MAX_PAYLOADS, `must hold at most ${MAX_PAYLOADS} payloads`),
});

export interface CodecRoutesOptions {
  codec: AesGcmPayloadCodec;
  /** Lowercase hex SHA-256 of each accepted bearer token. Empty: every request is refused. */
  tokenSha256: readonly string[];
  /** Browser origins (the Web UI's) allowed by CORS, exact match. */
  allowedOrigins: readonly string[];
  /** Namespaces accepted in X-Namespace. */
  namespaces: readonly string[];
  log?: (line: string) => void;
}

/**
 * Temporal's codec server protocol under `/codec`: POST `/codec/encode` and `/codec/decode` with `{ payloads: [...] }`,
 * the namespace in X-Namespace. So the Web UI (`--ui-codec-endpoint http://host:port/codec`) and
 * `temporal workflow show --codec-endpoint` can show decrypted payloads to authorised users.
 *
 * Authorisation: `Authorization: Bearer <token>` whose SHA-256 is configured, or the same token in an HttpOnly
 * SameSite=Strict cookie set by POST `/codec/login` (the Web UI sends cookies when TEMPORAL_CODEC_INCLUDE_CREDENTIALS
 * is true; it cannot send a static bearer token). Nothing is decoded without one. CORS admits only configured origins.
 */
export function createCodecRoutes(options: CodecRoutesOptions): Hono {
  const hashes = options.tokenSha256.map((h) => Buffer.from(h, 'hex'));
  const authorised = (token: string | undefined): boolean => {
    if (!token) return false;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let ok = false;
    for (const h of hashes) if (h.length === digest.length && timingSafeEqual(h, digest)) ok = true;
    return ok;
  };
  const app = new Hono();
  app.use(
    '/codec/*',
    cors({
      origin: (origin) => (options.allowedOrigins.includes(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      credentials: true,
      maxAge: 600,
    }),
  );
  app.use('/codec/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
    c.header('X-Content-Type-Options', 'nosniff');
  });

  app.get('/codec/login', (c) => c.html(LOGIN_PAGE));
  app.post('/codec/login', bodyLimit({ maxSize: 4096 }), async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : undefined;
    if (!authorised(token)) return c.json({ error: 'unknown token' }, 401);
    setCookie(c, CODEC_COOKIE, token!, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/codec',
      secure: new URL(c.req.url).protocol === 'https:',
      maxAge: 12 * 3600,
    });
    return c.text('Signed in: the Temporal Web UI in this browser can now decode ECP payloads (for 12 hours).');
  });

  const handle = (op: 'encode' | 'decode') => async (c: Context) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(c.req.header('Authorization') ?? '')?.[1]?.trim();
    if (!authorised(bearer ?? getCookie(c, CODEC_COOKIE))) {
      return c.json({ error: 'authorisation required: a configured bearer token (Authorization header or /codec/login)' }, 401, {
        'WWW-Authenticate': 'Bearer',
      });
    }
    const namespace = c.req.header('X-Namespace');
    if (!namespace || !options.namespaces.includes(namespace)) {
      return c.json({ error: `X-Namespace must name a namespace this codec server serves (${options.namespaces.join(', ')})` }, 403);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body must be JSON: { "payloads": [...] }' }, 400);
    }
    const parsed = codecBodySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return c.json({ error: `field "${issue.path.join('.') || 'body'}" ${issue.message}` }, 400);
    }
    try {
      const payloads = parsed.data.payloads.map(fromJson);
      const out = op === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      return c.json({ payloads: out.map(toJson) });
    } catch (err) {
      if (err instanceof EcpError) return c.json({ error: err.message }, 422);
      options.log?.(`codec server: ${op} failed: ${(err as Error).message}`);
      return c.json({ error: `${op} failed` }, 500);
    }
  };
  app.post('/codec/encode', bodyLimit({ maxSize: CODEC_MAX_BODY_BYTES }), handle('encode'));
  app.post('/codec/decode', bodyLimit({ maxSize: CODEC_MAX_BODY_BYTES }), handle('decode'));
  return app;
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = new Uint8Array(Buffer.from(v, 'base64'));
  return { metadata, data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')) };
}

function toJson(p: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v) metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the codec routes on host:port (port 0 picks a free one). */
export async function serveCodecServer(app: Hono, options: { port: number; host: string }): Promise<RunningCodecServer> {
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/codec`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const LOGIN_PAGE = `<!doctype html><meta charset="utf-8"><title>ECP codec server</title>
<h1>ECP codec server</h1>
<p>Enter a codec token to let the Temporal Web UI in this browser show decrypted ECP payloads.</p>
<form method="post" action="/codec/login"><input type="password" name="token" autocomplete="off" required> <button>Sign in</button></form>`;
