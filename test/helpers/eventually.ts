/**
 * Polls `check` until it returns a value (not undefined) and returns it; throws "timed out waiting for <what>" after
 * `timeoutMs`. For what is eventually consistent: visibility listings, executions, archives.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 300): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
