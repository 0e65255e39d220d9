/**
 * Counts failed sign-ins per key (human, and client address) in a sliding window; once `max` failures are in the
 * window, further attempts are refused until the oldest failure ages out. Successes do not reset a client key, so
 * guessing across many humans from one address is limited too.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another attempt is allowed for any of these keys; 0 when allowed now. */
  retryAfterMs(keys: string[]): number {
    const at = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.#recent(key, at);
      if (recent.length >= this.max) wait = Math.max(wait, recent[0]! + this.windowMs - at);
    }
    return wait;
  }

  fail(keys: string[]): void {
    const at = this.now();
    for (const key of keys) this.#failures.set(key, [...this.#recent(key, at), at]);
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, at: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => at - t < this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }
}
