import type { MiddlewareHandler } from 'hono';
import { parseJsonStrict } from '../common/jsonSafety';

/**
 * Refuses JSON request bodies that JSON.parse would silently change — duplicate keys, numbers that do not round-trip,
 * `__proto__`-style keys — with `invalid_input` naming the field, before any route reads them. Hono caches the body
 * text, so routes still parse and validate it as usual.
 */
export function strictJsonBodies(): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && /^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
      const text = await c.req.text();
      // Empty or malformed bodies are left to the route's own validation, which names what is missing.
      if (text.trim() !== '') {
        try {
          JSON.parse(text);
        } catch {
          return next();
        }
        parseJsonStrict(text);
      }
    }
    return next();
  };
}
