import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A target system that misbehaves on request, for the fault suite. `POST /op/<mode>` with `Idempotency-Key`:
 * - `ok`        applies the side effect once per key (201; a repeat answers the stored result), like the demo target;
 * - `slowok`    applies the effect when the request lands, answers after `slowMs` (a response lost to a crash);
 * - `flaky`     answers 503 to the first `flakyFailures` requests of a key, then behaves like `ok`;
 * - `500`       always 503; `400` always 400 (non-retryable); `hang` never answers (until the caller gives up).
 * Every request is counted per key, and so are requests the caller abandoned before an answer.
 */
export interface FaultTarget {
  url: string;
  requests: Map<string, number>;
  abandoned: Map<string, number>;
  effects: Map<string, number>;
  inFlight(): number;
  close(): Promise<void>;
}

export async function startFaultTarget(options: { slowMs?: number; flakyFailures?: number } = {}): Promise<FaultTarget> {
  const slowMs = options.slowMs ?? 2_500;
  const flakyFailures = options.flakyFailures ?? 2;
  const requests = new Map<string, number>();
  const abandoned = new Map<string, number>();
  const effects = new Map<string, number>();
  const results = new Map<string, unknown>();
  let inFlight = 0;
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const apply = (key: string) => {
    if (!results.has(key)) {
      bump(effects, key);
      results.set(key, { applied: key });
    }
    return results.get(key);
  };
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const mode = /^\/op\/([a-z0-9]+)$/.exec(req.url ?? '')?.[1];
    const key = req.headers['idempotency-key'];
    if (req.method !== 'POST' || !mode || typeof key !== 'string')
      return reply(res, 404, { error: 'POST /op/<mode> with Idempotency-Key' });
    const seen = (requests.get(key) ?? 0) + 1;
    requests.set(key, seen);
    inFlight++;
    // 'close' on the response before it finished = the caller gave up (timeout or cancellation aborted the fetch).
    res.on('close', () => {
      inFlight--;
      if (!res.writableFinished) bump(abandoned, key);
    });
    req.resume();
    switch (mode) {
      case 'ok':
        return reply(res, 201, apply(key));
      case 'slowok': {
        const result = apply(key);
        setTimeout(() => reply(res, 201, result), slowMs).unref();
        return;
      }
      case 'flaky':
        return seen <= flakyFailures ? reply(res, 503, { error: `flaky failure ${seen}` }) : reply(res, 201, apply(key));
      case '500':
        return reply(res, 503, { error: 'target is down' });
      case '400':
        return reply(res, 400, { error: 'target refuses: invalid refund' });
      case 'hang':
        return; // Never answers; the socket closes when the caller aborts.
      default:
        return reply(res, 404, { error: `unknown mode ${mode}` });
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    abandoned,
    effects,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
