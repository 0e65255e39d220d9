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
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
