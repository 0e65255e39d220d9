import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpSpec } from '../../activities/http';

// The plane's HTTP calls (context providers, HTTP executors) against a real local server: statuses, retryable vs
// final failures, the body cap, JSON parsing, redirects, headers and aborts.

const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let base: string;
let httpCall: typeof import('../../activities/http').httpCall;

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value));
  };
  switch (path) {
    case '/echo':
      return json(200, { method: req.method, body: body ? (JSON.parse(body) as unknown) : null });
    case '/text':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('plain ünïcode');
    case '/bad-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{not json');
    case '/redirect':
      res.writeHead(302, { location: '/echo' });
      return void res.end();
    case '/not-found':
      return json(404, { error: 'no such refund' });
    case '/unavailable':
      res.writeHead(503);
      return void res.end('try later');
    case '/too-many':
      res.writeHead(429);
      return void res.end();
    case '/big':
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('é'.repeat(40_000));
    case '/endless':
      // More than the cap, then the body never ends: the call must not wait for the rest.
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.write('x'.repeat(20_000));
    case '/hang':
      return; // never answers
    default:
      return json(500, { error: 'unknown route' });
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As in a worker, where global `fetch` ran before the plane's HTTP module loaded: Node's bundled undici is then the
  // global dispatcher.
  await (await fetch(`${base}/text`)).text();
  ({ httpCall } = await import('../../activities/http'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const spec = (path: string, method = 'GET', headers: Record<string, string> = {}): HttpSpec => ({ method, url: `${base}${path}`, headers });
const call = (s: HttpSpec, body?: Record<string, string>, signal = AbortSignal.timeout(5000)) => httpCall(s, {}, body, signal);

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('httpCall', () => {
  it('returns a 2xx JSON answer parsed, and sends the body as JSON with the headers given (env expanded)', async () => {
    process.env.ECP_TEST_TOKEN = 'sekret';
    const result = await call(spec('/echo', 'POST', { Authorization: 'Bearer ${env:ECP_TEST_TOKEN}' }), { amount: '12' });
    expect(result).toEqual({ status: 200, body: { method: 'POST', body: { amount: '12' } } });
    const request = seen.at(-1)!;
    expect(request.headers['authorization']).toBe('Bearer sekret');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['accept']).toBe('application/json');
  });

  it('keeps a non-JSON answer (or JSON that does not parse) as text', async () => {
    expect((await call(spec('/text'))).body).toBe('plain ünïcode');
    expect((await call(spec('/bad-json'))).body).toBe('{not json');
  });

  it('follows redirects', async () => {
    expect(await call(spec('/redirect'))).toEqual({ status: 200, body: { method: 'GET', body: null } });
  });

  it('fails final (HttpStatusError, not retryable) on a 4xx, with the status and body as details', async () => {
    const err = await failure(call(spec('/not-found')));
    expect(err).toBeInstanceOf(ApplicationFailure);
    const app = err as ApplicationFailure;
    expect(app.nonRetryable).toBe(true);
    expect(app.type).toBe('HttpStatusError');
    expect(app.message).toBe(`GET ${base}/not-found answered 404: {"error":"no such refund"}`);
    expect(app.details).toEqual([{ status: 404, body: { error: 'no such refund' } }]);
  });

  it('fails retryable on 5xx and 429, and on a refused connection', async () => {
    for (const path of ['/unavailable', '/too-many']) {
      const err = await failure(call(spec(path)));
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect(err.message).toMatch(new RegExp(`^GET ${base}${path} answered (503: try later|429)$`));
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(call({ method: 'GET', url, headers: {} }));
    expect(refused).not.toBeInstanceOf(ApplicationFailure);
    expect(refused.message).toBe(`GET ${url} failed: ECONNREFUSED`);
  });

  it('refuses a body on GET, as before', async () => {
    const err = await failure(call(spec('/echo'), { a: 'b' }));
    expect(err.message).toMatch(/failed: Request with GET\/HEAD method cannot have body/);
  });

  it('keeps at most 16 KiB characters of an answer', async () => {
    const result = await call(spec('/big'));
    expect(result.body).toBe('é'.repeat(16 * 1024));
  });

  it('reads no further than the cap: an answer that never ends is not waited for', async () => {
    const result = await call(spec('/endless'), undefined, AbortSignal.timeout(2000));
    expect(result).toEqual({ status: 200, body: 'x'.repeat(16 * 1024) });
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 50);
    const err = await failure(call(spec('/hang'), undefined, controller.signal));
    expect(controller.signal.aborted).toBe(true);
    expect(err.message).toMatch(/abort|cancelled/i);
  });
});
