import { Agent, request } from 'undici';

/** The HTTP client of the governed floor's calls: undici's `request`, as ECP's executor and context reads use. */
let agent: Agent | undefined;

/** Activities of the baseline workflows (bench/workflows/index.ts). */
export function createBaselineActivities() {
  return {
    /** Returns its input: the cost of an activity round trip and nothing else. */
    async noop(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
      return payload;
    },
    /** POSTs JSON with a bearer token and Idempotency-Key, like ECP's HTTP executor; throws on a non-2xx answer. */
    async postJson(input: { url: string; token: string; idempotencyKey: string; body: Record<string, unknown> }): Promise<unknown> {
      const res = await fetch(input.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${input.token}`, 'idempotency-key': input.idempotencyKey },
        body: JSON.stringify(input.body),
        signal: AbortSignal.timeout(15_000),
      });
      const body: unknown = await res.json();
      if (!res.ok) throw new Error(`target answered ${res.status}: ${JSON.stringify(body)}`);
      return body;
    },
    /**
     * One JSON call with a bearer token (and an Idempotency-Key when given) through undici's `request`, the client ECP's
     * own HTTP calls use, so the governed floor pays what ECP pays per call and no more; throws on a non-2xx answer.
     */
    async httpJson(input: {
      method: 'GET' | 'POST';
      url: string;
      token: string;
      idempotencyKey?: string;
      body?: Record<string, unknown>;
    }): Promise<unknown> {
      const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${input.token}` };
      if (input.idempotencyKey) headers['idempotency-key'] = input.idempotencyKey;
      if (input.body) headers['content-type'] = 'application/json';
      const res = await request(input.url, {
        method: input.method,
        headers,
        body: input.body ? JSON.stringify(input.body) : undefined,
        signal: AbortSignal.timeout(15_000),
        dispatcher: (agent ??= new Agent()),
      });
      const body: unknown = await res.body.json();
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`target answered ${res.statusCode}: ${JSON.stringify(body)}`);
      return body;
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
