import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { EcpError, type EcpErrorBody, type EcpErrorCode } from '../common/errors';
import { formatPath, issuePath, plainIssue } from '../common/validation';

/** The one error body every API failure has: {@link EcpErrorBody}, described for OpenAPI. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_input', description: 'stable, for scripts' }),
      message: z.string().openapi({ description: 'for the person reading it' }),
      field: z.string().optional().openapi({ description: 'the offending input, e.g. `statement.reason`' }),
      refusal: z.string().optional().openapi({ description: "the workflow's refusal code when a decision did not count" }),
    }),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof errorBodySchema>;
// The schema describes exactly what EcpError.body() puts on the wire.
const _sameBody: (body: EcpErrorBody) => ErrorBody = (body) => body;
void _sameBody;

const STATUS: Record<EcpErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  too_large: 413,
  conflict: 409,
  stale: 409,
  not_found: 404,
  config_invalid: 500,
  policy_invalid: 500,
  connection: 503,
  refused: 403,
  forbidden: 403,
  unauthenticated: 401,
  csrf: 403,
  rate_limited: 429,
  internal: 500,
};

/** The HTTP status an {@link EcpError} code answers with. */
export function httpStatusOf(code: EcpErrorCode): ContentfulStatusCode {
  return STATUS[code];
}

/** Maps anything thrown in a handler to the error body; unexpected errors are logged and never leak details. */
export function toErrorResponse(c: Context, err: unknown, log: (line: string) => void): Response {
  if (err instanceof EcpError) return c.json(err.body(), httpStatusOf(err.code));
  const e = err as { code?: unknown; message?: string };
  if (e?.code === 14) return c.json(new EcpError('connection', 'Temporal is unreachable; try again shortly').body(), 503);
  log(`console: unexpected error on ${c.req.method} ${c.req.path}: ${e?.message ?? String(err)}`);
  return c.json(new EcpError('internal', 'unexpected error; see the plane log').body(), 500);
}

/** The zod-openapi validation hook: the first issue becomes `invalid_input` naming the field (e.g. `statement.reason`). */
export function validationHook(result: { success: boolean; error?: z.ZodError; target?: string }, c: Context): Response | undefined {
  if (result.success || !result.error) return undefined;
  const issue = result.error.issues[0];
  const field = formatPath(issuePath(issue)) || undefined;
  const where = result.target === 'query' ? 'query parameter' : result.target === 'param' ? 'path parameter' : 'field';
  const message = `invalid request: ${field ? `${where} "${field}"` : 'the request'} ${plainIssue(issue)}`;
  return c.json(new EcpError('invalid_input', message, field).body(), 400);
}
