import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ApplicationFailure } from '@temporalio/common';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { parseTemplate } from 'url-template';
import { FailureType, type JsonValue } from '../common';

export interface HttpSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);
const MAX_BODY_CHARS = 16 * 1024;

/** Replaces `${env:NAME}`; a missing variable is a configuration fault, not worth retrying. */
export function withEnv(value: string): string {
  return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const found = process.env[name];
    if (found === undefined) {
      throw ApplicationFailure.nonRetryable(`environment variable ${name} is not set on the worker`, FailureType.ConfigurationError);
    }
    return found;
  });
}

export function expandUrl(template: string, vars: Record<string, unknown>): string {
  const scalars = Object.fromEntries(Object.entries(vars).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))) as Record<
    string,
    string | number | boolean
  >;
  return parseTemplate(withEnv(template)).expand(scalars);
}

const tracer = trace.getTracer('ecp');

/**
 * One HTTP call on behalf of the plane. 2xx → the parsed body. 408/425/429/5xx and network errors throw a retryable
 * error; any other status is final (non-retryable `HttpStatusError`), so a 4xx is not hammered. When tracing is on
 * (telemetry/tracing.ts), the call is a client span of the running activity's trace and the request carries its W3C
 * `traceparent`; when it is off, no header is added.
 */
export async function httpCall(
  spec: HttpSpec,
  vars: Record<string, unknown>,
  body: JsonValue | undefined,
  signal: AbortSignal,
): Promise<{ status: number; body: JsonValue }> {
  const url = expandUrl(spec.url, vars);
  return tracer.startActiveSpan(
    `HTTP ${spec.method}`,
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': spec.method, 'url.full': url } },
    async (span) => {
      try {
        const result = await send(spec, url, body, signal);
        span.setAttribute('http.response.status_code', result.status);
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

async function send(
  spec: HttpSpec,
  url: string,
  body: JsonValue | undefined,
  signal: AbortSignal,
): Promise<{ status: number; body: JsonValue }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(spec.headers)) headers[k.toLowerCase()] = withEnv(v);
  if (body !== undefined) headers['content-type'] = 'application/json';
  // The trace context of this call's span (a no-op without a registered propagator).
  propagation.inject(context.active(), headers);
  let response: Dispatcher.ResponseData;
  try {
    // As `fetch` refused it (a retryable failure, so a misconfigured action type behaves as it always did).
    if (body !== undefined && spec.method === 'GET') throw new Error('Request with GET/HEAD method cannot have body.');
    // undici's `request` instead of global `fetch` (the same library underneath): a third of the CPU per call, no
    // WHATWG Request/Response objects. Redirects are followed as `fetch` follows them.
    response = await request(url, {
      method: spec.method as Dispatcher.HttpMethod,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      dispatcher: followRedirects(),
    });
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    throw new Error(`${spec.method} ${url} failed: ${e.cause?.code ?? e.code ?? e.cause?.message ?? e.message}`);
  }
  const status = response.statusCode;
  const text = await readCapped(response.body, signal);
  let parsed: JsonValue = text;
  if (text && headerText(response.headers['content-type']).includes('json')) {
    try {
      parsed = JSON.parse(text) as JsonValue;
    } catch {
      parsed = text;
    }
  }
  if (status >= 200 && status <= 299) return { status, body: parsed };
  const message = `${spec.method} ${url} answered ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
  if (status >= 500 || RETRYABLE_STATUS.has(status)) throw new Error(message);
  throw ApplicationFailure.nonRetryable(message, FailureType.HttpStatusError, { status, body: parsed });
}

let dispatcher: Dispatcher | undefined;
/**
 * The plane's own connection pool (keep-alive), following up to 20 redirects like `fetch`; built on first use. Not
 * the global dispatcher: once anything in the process has called global `fetch`, that is Node's bundled undici,
 * whose handler interface this undici's interceptors do not speak.
 */
function followRedirects(): Dispatcher {
  return (dispatcher ??= new Agent().compose(interceptors.redirect({ maxRedirections: 20 })));
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

/**
 * The body as UTF-8 text, at most {@link MAX_BODY_CHARS} characters: reading stops (and the connection's rest of the
 * body is discarded) once that much has arrived, so a huge answer costs no more than the cap.
 */
async function readCapped(stream: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of stream) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (text.length >= MAX_BODY_CHARS) {
        stream.destroy();
        return text.slice(0, MAX_BODY_CHARS);
      }
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw new Error(`reading the answer failed: ${(err as Error).message}`);
  }
  return (text + decoder.decode()).slice(0, MAX_BODY_CHARS);
}
